// @ts-check
// The page's one server-sent-events parser, for GET /event and for a session run's own stream.
// It follows the WHATWG event-stream format (html.spec.whatwg.org, "Server-sent events"):
// - lines end in CRLF, LF or CR, and a CRLF may be split across chunks;
// - bytes are UTF-8, and a chunk may end inside a character;
// - a blank line ends an event; `event:` names it (default `message`); each `data:` line adds a
//   line of data; one space after the colon is dropped; a line starting with `:` is a comment (the
//   server's heartbeats); unknown fields are ignored; an event with no `data:` line is not sent;
//   a partial event at the end of the stream is dropped;
// - `id:` sets the last event id (kept across events, ignored if it holds NUL) and `retry:` (digits
//   only) the reconnection time: both are parsed and exposed as the format says. The page acts on
//   neither: the server sends neither and replays nothing, and the page reconnects on its own
//   schedule (see events.js).
// Pure: no DOM, no network; test/web/sse.test.ts feeds it chunks split at every byte.

/** @typedef {{ type: string, data: string, lastEventId: string }} SseEvent */

/** An event holding more than this many characters (its data lines, and a line still arriving) ends the stream. */
export const MAX_EVENT_CHARS = 256 * 1024 * 1024;

export class SseTooLarge extends Error {}

export class SseParser {
  /** The last `id:` value (the spec's "last event ID"), '' until one arrives. */
  lastEventId = '';
  /** The last valid `retry:` value in milliseconds, or null. @type {number | null} */
  retry = null;

  #onEvent;
  #maxEventChars;
  #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  #lineEnd = /\r\n|\r|\n/g;
  #started = false;
  /** A CR ended the last chunk: a LF at the start of the next one belongs to it. */
  #skipLF = false;
  /** Pieces of the line not yet ended. @type {string[]} */
  #line = [];
  /** @type {string[]} */
  #data = [];
  #type = '';
  /** Characters held for the event being read: its data lines, and the line not yet ended. */
  #dataSize = 0;
  #lineSize = 0;

  /**
   * @param {(event: SseEvent) => void} onEvent called once per complete event, in order
   * @param {{ maxEventChars?: number }} [options]
   */
  constructor(onEvent, options = {}) {
    this.#onEvent = onEvent;
    this.#maxEventChars = options.maxEventChars ?? MAX_EVENT_CHARS;
  }

  /** Feeds a chunk: bytes (UTF-8, split anywhere) or text. Throws SseTooLarge past the limit. */
  push(/** @type {Uint8Array | string} */ chunk) {
    this.#text(typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: what is left of a character is decoded; a partial event is dropped. */
  end() {
    this.#text(this.#decoder.decode());
    this.#line = [];
    this.#lineSize = 0;
    this.#reset();
  }

  /** @param {string} text */
  #text(text) {
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // one leading BOM
    }
    let start = 0;
    if (this.#skipLF && text.length > 0) {
      this.#skipLF = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    const re = this.#lineEnd;
    re.lastIndex = start;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      this.#line.push(text.slice(start, m.index));
      start = m.index + m[0].length;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === '\r' && start === text.length) this.#skipLF = true;
      const line = this.#line.join('');
      this.#line = [];
      this.#lineSize = 0;
      this.#field(line);
    }
    if (start < text.length) {
      this.#line.push(text.slice(start));
      this.#lineSize += text.length - start;
      this.#check();
    }
  }

  #check() {
    if (this.#dataSize + this.#lineSize > this.#maxEventChars) throw new SseTooLarge(`an event is longer than ${this.#maxEventChars} characters`);
  }

  /** @param {string} line */
  #field(line) {
    if (line === '') return this.#dispatch();
    if (line.charCodeAt(0) === 58) return; // ':' a comment
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === 'data') {
      this.#data.push(value);
      this.#dataSize += value.length + 1;
      this.#check();
    } else if (name === 'event') {
      this.#type = value;
    } else if (name === 'id') {
      if (!value.includes('\0')) this.lastEventId = value;
    } else if (name === 'retry') {
      if (/^[0-9]+$/.test(value)) this.retry = Number(value);
    }
  }

  #reset() {
    this.#data = [];
    this.#type = '';
    this.#dataSize = 0;
  }

  #dispatch() {
    const data = this.#data;
    const type = this.#type;
    this.#reset();
    if (data.length === 0) return;
    this.#onEvent({ type: type || 'message', data: data.join('\n'), lastEventId: this.lastEventId });
  }
}

/**
 * Reads an event-stream response to its end, calling `onEvent(type, data)` with each event's data
 * parsed as JSON. Every event tether sends is JSON; one that is not is skipped.
 * @param {Response} res
 * @param {(type: string, data: any) => void} onEvent
 */
export async function readJsonEvents(res, onEvent) {
  if (!res.body) return;
  const parser = new SseParser((e) => {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    onEvent(e.type, data);
  });
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
    parser.end();
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
}
