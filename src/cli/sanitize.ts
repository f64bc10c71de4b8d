// Text from a server or a model reaches the user's terminal only through here (pure, no I/O).
//
// - `visible()` is for everything the CLI prints that is not the terminal byte stream of `attach`
//   or the agent's reply: names, ids, messages, errors, tool calls. Control characters are shown as
//   text, so nothing a server sends can drive the terminal (OSC 52 writes the clipboard, OSC 0 sets
//   the window title, CSI 2J clears the screen, CR or BS overwrite what the CLI printed), and so the
//   user can see that something odd was sent. Bidi formatting characters are shown as text too: in
//   a field they would reorder the CLI's own words around it ("Trojan Source").
// - `EscapeStripper` is for reply text (and `run --shell` output): escape sequences are removed,
//   whole, keeping plain text, newlines and tabs, because prose is meant to be read, not inspected.
//   It keeps state across chunks, so a sequence split between two streamed deltas is still removed.

/** C0 controls, DEL, C1 controls, and the Unicode bidi formatting characters. */
// eslint-disable-next-line no-control-regex -- finding control characters is this module's job
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export interface VisibleOptions {
  /** Keep `\n` as a line break (multi-line text such as a stack); otherwise shown as `^J`. */
  newlines?: boolean;
  /** Keep `\t`; otherwise shown as `^I`. */
  tabs?: boolean;
}

/**
 * Renders control characters visibly: C0 in caret notation (`ESC` -> `^[`, `BEL` -> `^G`), DEL as
 * `^?`, C1 as `\x9b`, bidi formatting characters as `\u202e`. Everything else is unchanged.
 * By default the result is one line: a server cannot start a line that looks like the CLI's own.
 */
export function visible(value: unknown, opts: VisibleOptions = {}): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.replace(UNSAFE, (ch) => {
    if ((ch === '\n' && opts.newlines) || (ch === '\t' && opts.tabs)) return ch;
    const c = ch.charCodeAt(0);
    if (c < 0x20) return '^' + String.fromCharCode(c + 0x40);
    if (c === 0x7f) return '^?';
    if (c <= 0x9f) return '\\x' + c.toString(16);
    return '\\u' + c.toString(16).padStart(4, '0');
  });
}

/** Characters that JSON.stringify leaves raw but a terminal acts on: DEL, C1, bidi, line separators. */
const JSON_UNSAFE = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** JSON for `--json` output: the same value for a script, with nothing raw for a terminal
 * (JSON.stringify already escapes C0; the rest becomes `\uXXXX` escapes, still valid JSON). */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(JSON_UNSAFE, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

const ESC = 0x1b;
const CAN = 0x18;
const SUB = 0x1a;
/** C1 and 7-bit introducers of control strings: DCS, SOS, OSC, PM, APC (all end with ST; OSC also with BEL). */
const C1_STRINGS = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
const ESC_STRINGS = new Set(['P', 'X', ']', '^', '_']);
/** Bidi embeddings, overrides and isolates: they can leak past the reply into the CLI's next line.
 * (The marks LRM, RLM and ALM are kept: right-to-left prose uses them and they reorder nothing beyond
 * their neighbours.) */
const isBidiFormatting = (c: number) => (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);

/** Anything the stripper would act on; text without these passes through unchanged (fast path). */
// eslint-disable-next-line no-control-regex -- finding control characters is this module's job
const NEEDS_WORK = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
/** The same, to skip runs of plain text (\n and \t included) in one step. */
// eslint-disable-next-line no-control-regex -- finding control characters is this module's job
const NEXT_SPECIAL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
/** What can end a control string: BEL, ESC, CAN, SUB, ST. */
// eslint-disable-next-line no-control-regex -- finding control characters is this module's job
const NEXT_STRING_END = /[\x07\x18\x1a\x1b\x9c]/g;

type State = 'ground' | 'esc' | 'escInter' | 'csi' | 'string' | 'stringEsc';

/**
 * Removes escape sequences (ECMA-48: CSI with 7-bit or C1 introducer, OSC/DCS/SOS/PM/APC strings
 * up to BEL, ST or ESC \, two- and three-character ESC sequences) and every other control
 * character except `\n` and `\t`, including CR and BS, which could overwrite a line.
 * An unterminated control string swallows the rest of the text, as a terminal would.
 */
export class EscapeStripper {
  private state: State = 'ground';

  push(chunk: string): string {
    if (this.state === 'ground' && !NEEDS_WORK.test(chunk)) return chunk;
    let out = '';
    let i = 0;
    while (i < chunk.length) {
      const ch = chunk[i]!;
      const c = ch.charCodeAt(0);
      switch (this.state) {
        case 'ground':
          if (c === ESC) this.state = 'esc';
          else if (c === 0x9b) this.state = 'csi';
          else if (C1_STRINGS.has(c)) this.state = 'string';
          else if (c < 0x20 && c !== 0x0a && c !== 0x09) {
            // other C0 dropped
          } else if ((c >= 0x7f && c <= 0x9f) || isBidiFormatting(c)) {
            // DEL, other C1, bidi formatting dropped
          } else {
            // A run of plain text (newlines and tabs included), copied at once.
            NEXT_SPECIAL.lastIndex = i + 1;
            const next = NEXT_SPECIAL.exec(chunk)?.index ?? chunk.length;
            out += chunk.slice(i, next);
            i = next;
            continue;
          }
          i++;
          continue;
        case 'esc':
          if (ch === '[') this.state = 'csi';
          else if (ESC_STRINGS.has(ch)) this.state = 'string';
          else if (c >= 0x20 && c <= 0x2f) this.state = 'escInter';
          else if (c >= 0x30 && c <= 0x7e) this.state = 'ground';
          else if (c === CAN || c === SUB) this.state = 'ground';
          else if (c === ESC || c < 0x20) {
            // ESC restarts; other C0 inside a sequence are dropped
          } else {
            this.state = 'ground';
            continue; // not a sequence: handle this character as text
          }
          i++;
          continue;
        case 'escInter':
          if (c >= 0x30 && c <= 0x7e) this.state = 'ground';
          else if (c === ESC) this.state = 'esc';
          else if (c === CAN || c === SUB) this.state = 'ground';
          else if ((c >= 0x20 && c <= 0x2f) || c < 0x20) {
            // more intermediates; C0 dropped
          } else {
            this.state = 'ground';
            continue;
          }
          i++;
          continue;
        case 'csi':
          if (c >= 0x40 && c <= 0x7e) this.state = 'ground';
          else if (c === ESC) this.state = 'esc';
          else if (c === CAN || c === SUB) this.state = 'ground';
          else if ((c >= 0x20 && c <= 0x3f) || c < 0x20) {
            // parameters and intermediates; C0 dropped
          } else {
            this.state = 'ground';
            continue;
          }
          i++;
          continue;
        case 'string': {
          // Skip the string's body up to the next character that could end it.
          NEXT_STRING_END.lastIndex = i;
          const end = NEXT_STRING_END.exec(chunk)?.index;
          if (end === undefined) {
            i = chunk.length;
            continue;
          }
          i = end;
          const e = chunk.charCodeAt(i);
          if (e === ESC) this.state = 'stringEsc';
          else this.state = 'ground';
          i++;
          continue;
        }
        case 'stringEsc':
          if (ch === '\\') {
            this.state = 'ground';
            i++;
          } else this.state = 'esc'; // ESC ends the string and starts a new sequence
          continue;
      }
    }
    return out;
  }
}

/** `EscapeStripper` for a whole text at once. */
export function stripEscapes(text: string): string {
  return new EscapeStripper().push(text);
}
