// A session's title from its first message, so the list reads "fix the login test", not a column of
// "New session". Pure. Applied only while the session still has its default title and no message
// (SessionStore.titleIfUntitled), so a title someone chose is never replaced.

/** Longest automatic title, in characters (the limit for titles in general is 200). */
export const AUTO_TITLE_MAX = 60;

// Controls (refused in titles) and bidi formatting characters (they would reorder the list's text).
const UNWANTED = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** The first non-blank line of `text`, whitespace collapsed, cut at a word near AUTO_TITLE_MAX with `…`; '' if nothing is left. */
export function titleFrom(text: string, max = AUTO_TITLE_MAX): string {
  const line =
    text
      .split(/\r?\n|\r/)
      .map((l) => l.replace(UNWANTED, ' ').replace(/\s+/g, ' ').trim())
      .find((l) => l !== '') ?? '';
  const chars = [...line];
  if (chars.length <= max) return line;
  const cut = chars.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space >= max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
