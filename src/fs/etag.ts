import { createHash } from 'node:crypto';
import { TetherError, UsageError } from '../errors.js';

// Entity tags for project files and the HTTP preconditions built on them (RFC 9110 section 13), so
// that two editors never silently overwrite each other: a client sends back the tag it read
// (`If-Match`), and a write whose file has changed since is refused with 412.
//
// A tag is strong and comes from the content alone: `"` + base64url(SHA-256(bytes)) + `"`. The same
// bytes always have the same tag, whoever wrote them and whenever (a touch or a restart changes
// nothing), and any change of content changes it.

/** The strong entity tag of these bytes. */
export function etagOf(content: Buffer): string {
  return `"${createHash('sha256').update(content).digest('base64url')}"`;
}

/** `*` (any current file), or the listed tags. */
export type TagList = '*' | readonly string[];

/** What a write requires of the file before it: If-Match and If-None-Match, as sent. */
export interface Precondition {
  ifMatch?: TagList;
  ifNoneMatch?: TagList;
}

/** A precondition that did not hold; carries the file's current tag (null: no file, or no tag). */
export class PreconditionFailedError extends TetherError {
  constructor(
    message: string,
    readonly currentEtag: string | null,
    code = 'etag_mismatch',
  ) {
    super(code, message, 412, 1);
  }
}

// One entity tag: optional W/, then a quoted string of etagc characters (no DQUOTE, no controls).
const TAG = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/**
 * Parses an If-Match / If-None-Match header. Absent: undefined. Anything that is not `*` or a
 * comma-separated list of entity tags is a 400 naming the accepted form: a malformed precondition
 * is never ignored (that would turn a careful conditional write into a blind one).
 */
export function parseTagList(header: string | undefined, name: string): TagList | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return '*';
  const tags = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (tags.length === 0 || tags.length > 64 || !tags.every((t) => TAG.test(t))) {
    throw new UsageError(
      `${name} must be * or a comma-separated list of entity tags as sent in ETag (e.g. ${name}: "abc..."); got ${JSON.stringify(value.slice(0, 100))}`,
      'bad_precondition',
    );
  }
  return tags;
}

/**
 * Checks a precondition against the file's current state: `exists`, and its tag (null when the
 * file has none: it is missing, or too large to have been read). Strong comparison for If-Match
 * (a weak tag never matches), weak for If-None-Match, as RFC 9110 says.
 */
export function checkPrecondition(pre: Precondition, exists: boolean, current: string | null): void {
  const strip = (t: string) => t.replace(/^W\//, '');
  if (pre.ifMatch !== undefined) {
    const ok = pre.ifMatch === '*' ? exists : current !== null && pre.ifMatch.includes(current);
    if (!ok) {
      const why = !exists
        ? 'the file does not exist (it was deleted, or never was)'
        : current === null
          ? 'the file is too large to have an entity tag'
          : 'the file has changed since that version was read';
      throw new PreconditionFailedError(`If-Match did not match: ${why}; the current entity tag is in currentEtag`, exists ? current : null);
    }
  }
  if (pre.ifNoneMatch !== undefined) {
    const hit = pre.ifNoneMatch === '*' ? exists : current !== null && pre.ifNoneMatch.some((t) => strip(t) === current);
    if (hit) {
      const message =
        pre.ifNoneMatch === '*'
          ? 'If-None-Match: * asks to create the file only if it does not exist, and it exists'
          : 'If-None-Match matched the current version of the file';
      throw new PreconditionFailedError(message, current, pre.ifNoneMatch === '*' ? 'file_exists' : 'etag_matched');
    }
  }
}
