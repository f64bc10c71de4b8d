// The web UI's one event-stream parser (src/web/modules/sse.js): pure JS, run here under Node.
// The format is the WHATWG one ("Server-sent events", html.spec.whatwg.org).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_CHARS, SseParser, SseTooLarge, readJsonEvents } from '../../src/web/modules/sse.js';

interface Ev {
  type: string;
  data: string;
  lastEventId: string;
}

/** Feeds the chunks, ends the stream, returns the events. */
function parse(chunks: (string | Uint8Array)[], options?: { maxEventChars?: number }): Ev[] {
  const out: Ev[] = [];
  const p = new SseParser((e: Ev) => out.push(e), options);
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const ev = (data: string, type = 'message', lastEventId = '') => ({ type, data, lastEventId });

/** The same stream with each of the three line endings. */
const withEnding = (lines: string[], eol: string) => lines.map((l) => l + eol).join('');

describe('line endings', () => {
  const lines = ['event: message.part', 'data: {"a":1}', '', ': heartbeat', '', 'data: two', 'data: lines', ''];
  const expected = [ev('{"a":1}', 'message.part'), ev('two\nlines')];

  for (const [name, eol] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ] as const) {
    it(`${name}`, () => {
      expect(parse([withEnding(lines, eol)])).toEqual(expected);
    });
  }

  it('mixed in one stream', () => {
    expect(parse(['event: message.part\r\ndata: {"a":1}\n\r: heartbeat\r\n\ndata: two\rdata: lines\r\n\n'])).toEqual(expected);
  });

  it('a CRLF split across chunks is one line end, not a blank line', () => {
    // Were the LF after a chunk-final CR a line of its own, "a" would go out alone.
    expect(parse(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual([ev('a\nb')]);
    expect(parse(['data: a\r', '', '\ndata: b\r', '\n\r', '\n'])).toEqual([ev('a\nb')]);
  });

  it('a chunk-final CR followed by a CR is a blank line', () => {
    expect(parse(['data: a\r', '\rdata: b\r\r'])).toEqual([ev('a'), ev('b')]);
  });
});

describe('fields', () => {
  it('`event:` names the event; the name does not carry over to the next one', () => {
    expect(parse(['event: done\ndata: 1\n\ndata: 2\n\n'])).toEqual([ev('1', 'done'), ev('2')]);
  });

  it('one space after the colon is dropped, no more; no colon means an empty value', () => {
    expect(parse(['data:x\n\ndata:  x\n\ndata\n\ndata:\ndata\n\n'])).toEqual([ev('x'), ev(' x'), ev(''), ev('\n')]);
  });

  it('a value may hold colons', () => {
    expect(parse(['data: {"url":"http://a:1/"}\n\n'])).toEqual([ev('{"url":"http://a:1/"}')]);
  });

  it('comments (heartbeats) and unknown or wrongly cased fields are ignored', () => {
    expect(parse([': heartbeat\n\n:\n\nfoo: bar\nData: no\nEVENT: no\ndata: yes\n\n: heartbeat\n\n'])).toEqual([ev('yes')]);
  });

  it('an event without data is not sent, even when named', () => {
    expect(parse(['event: lonely\n\nid: 7\n\n'])).toEqual([]);
  });

  it('`id:` sets the last event id, which stays for later events; one holding NUL is ignored', () => {
    const out: Ev[] = [];
    const p = new SseParser((e: Ev) => out.push(e));
    p.push('id: 1\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n');
    expect(out).toEqual([ev('a', 'message', '1'), ev('b', 'message', '1'), ev('c', 'message', '1'), ev('d', 'message', '')]);
    expect(p.lastEventId).toBe('');
  });

  it('`retry:` with digits only sets the reconnection time; anything else is ignored; neither is data', () => {
    const out: Ev[] = [];
    const p = new SseParser((e: Ev) => out.push(e));
    expect(p.retry).toBeNull();
    p.push('retry: 2500\ndata: a\n\n');
    expect(p.retry).toBe(2500);
    p.push('retry: 1e3\nretry: -1\nretry: 10 \nretry:\ndata: b\n\n');
    expect(p.retry).toBe(2500);
    expect(out).toEqual([ev('a'), ev('b')]);
  });

  it('a leading byte order mark is dropped, once', () => {
    expect(parse([bytes('\uFEFFdata: a\n\n')])).toEqual([ev('a')]);
    expect(parse(['\uFEFFdata: a\n\n'])).toEqual([ev('a')]);
    // A second one is the start of a field name ("\uFEFFdata"), which is unknown.
    expect(parse(['\uFEFF\uFEFFdata: a\n\ndata: b\n\n'])).toEqual([ev('b')]);
    expect(parse(['data: a\n\n\uFEFFdata: b\n\n'])).toEqual([ev('a')]);
  });

  it('at the end of the stream a partial event is dropped', () => {
    expect(parse(['data: a\n\ndata: b\n'])).toEqual([ev('a')]);
    expect(parse(['data: a\n\ndata: b'])).toEqual([ev('a')]);
  });
});

describe('chunks split anywhere', () => {
  // Multi-byte characters (2, 3 and 4 bytes in UTF-8), every line ending, comments, ids.
  const stream =
    'event: message.part.delta\r\ndata: {"text":"héllo → 🌍"}\r\n\r\n' +
    ': heartbeat\n\n' +
    'id: 42\rdata: a\rdata: b\r\r' +
    'event: done\ndata: {"message":{"id":"m1"}}\n\n';
  const expected = [ev('{"text":"héllo → 🌍"}', 'message.part.delta'), ev('a\nb', 'message', '42'), ev('{"message":{"id":"m1"}}', 'done', '42')];
  const all = bytes(stream);

  it('whole', () => {
    expect(parse([all])).toEqual(expected);
    expect(parse([stream])).toEqual(expected);
  });

  it('into two at every byte', () => {
    for (let i = 0; i <= all.length; i++) expect(parse([all.slice(0, i), all.slice(i)]), `split at ${i}`).toEqual(expected);
  });

  it('one byte at a time', () => {
    expect(parse(Array.from(all, (b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it('one character at a time (text chunks)', () => {
    expect(parse([...stream])).toEqual(expected);
  });

  it('at random cut points, with empty chunks', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: all.length }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), all.length];
        const chunks = points.slice(1).map((end, i) => all.slice(points[i], end));
        expect(parse(chunks)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('size limit', () => {
  it('an event longer than the limit ends the stream, whether it comes as one line or many', () => {
    const p = new SseParser(() => {}, { maxEventChars: 100 });
    p.push('data: ');
    for (let i = 0; i < 9; i++) p.push('x'.repeat(10));
    expect(() => p.push('x'.repeat(10))).toThrow(SseTooLarge);
    const q = new SseParser(() => {}, { maxEventChars: 100 });
    expect(() => {
      for (let i = 0; i < 20; i++) q.push('data: 123456789\n');
    }).toThrow(/longer than 100 characters/);
  });

  it('counts one event at a time: many events under the limit are fine', () => {
    expect(
      parse(
        Array.from({ length: 50 }, () => 'data: 123456789\n\n'),
        { maxEventChars: 100 },
      ),
    ).toHaveLength(50);
    expect(parse([': ' + 'x'.repeat(50) + '\n', ': ' + 'x'.repeat(50) + '\ndata: a\n\n'], { maxEventChars: 100 })).toEqual([ev('a')]);
  });

  it('defaults to the CLI client limit', () => {
    expect(MAX_EVENT_CHARS).toBe(256 * 1024 * 1024);
  });
});

describe('readJsonEvents', () => {
  const response = (chunks: string[]) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const s of chunks) c.enqueue(bytes(s));
          c.close();
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    );

  it('reads what GET /event and a session run send: named events with JSON data; non-JSON data is skipped', async () => {
    const got: [string, unknown][] = [];
    await readJsonEvents(
      response([
        'event: message\ndata: {"type":"pty.created","properties":{"id":"pty_1"}}\n\n',
        ': heartbeat\n\n',
        'event: message.part\r\ndata: {"type":"message.part",',
        '"properties":{}}\r\n\r\n',
        'data: not json\n\n',
        'event: done\ndata: {"type":"done"}\n\n',
      ]),
      (type: string, data: unknown) => got.push([type, data]),
    );
    expect(got).toEqual([
      ['message', { type: 'pty.created', properties: { id: 'pty_1' } }],
      ['message.part', { type: 'message.part', properties: {} }],
      ['done', { type: 'done' }],
    ]);
  });

  it('cancels the body when a handler throws, and passes the error on', async () => {
    let cancelled = false;
    const res = new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          c.enqueue(bytes('data: {}\n\n'));
        },
        cancel() {
          cancelled = true;
        },
      }),
    );
    await expect(
      readJsonEvents(res, () => {
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(cancelled).toBe(true);
  });
});
