// The sanitiser (pure): what server and model text may do to a terminal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EscapeStripper, safeJson, stripEscapes, visible } from '../../src/cli/sanitize.js';

// eslint-disable-next-line no-control-regex -- matching control characters is what this test checks
const RAW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** What may survive stripping: text, \n, \t; LRM/RLM/ALM marks are kept for right-to-left prose. */
// eslint-disable-next-line no-control-regex -- matching control characters is what this test checks
const RAW_AFTER_STRIP = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Strings rich in the characters that matter: controls, C1, bidi, escape introducers. */
const hostileChar = fc.constantFrom(
  '\x1b',
  '\x07',
  '\x9b',
  '\x9c',
  '\x9d',
  '\x90',
  '\r',
  '\b',
  '\n',
  '\t',
  '\x00',
  '\x7f',
  '\x18',
  '\x1a',
  '[',
  ']',
  '\\',
  'P',
  '_',
  '^',
  'X',
  ';',
  '0',
  '2',
  'J',
  'm',
  'a',
  ' ',
  'é',
  '€',
  '😀',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u200f',
  '\u061c',
);
const hostileString = fc.array(hostileChar, { maxLength: 60 }).map((a) => a.join(''));
const anyString = fc.oneof(hostileString, fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

describe('visible()', () => {
  it('shows C0 in caret notation, DEL as ^?, C1 and bidi as escapes', () => {
    expect(visible('\x1b]52;c;aGk=\x07')).toBe('^[]52;c;aGk=^G');
    expect(visible('\x1b[2J')).toBe('^[[2J');
    expect(visible('a\x9b2Jb')).toBe('a\\x9b2Jb');
    expect(visible('\x00\x7f\x85')).toBe('^@^?\\x85');
    expect(visible('\u202eabc\u2066\u2069\u200e\u200f\u061c')).toBe('\\u202eabc\\u2066\\u2069\\u200e\\u200f\\u061c');
    expect(visible('ok\rEVIL\bX')).toBe('ok^MEVIL^HX');
  });

  it('is one line unless asked: \\n and \\t kept only with the options', () => {
    expect(visible('a\nb\tc')).toBe('a^Jb^Ic');
    expect(visible('a\nb\tc', { newlines: true })).toBe('a\nb^Ic');
    expect(visible('a\nb\tc', { newlines: true, tabs: true })).toBe('a\nb\tc');
  });

  it('leaves ordinary text alone, in any script', () => {
    for (const s of ['plain ascii ~!@#$%^&*()', 'héllo wörld', '日本語', 'مرحبا', 'שלום', '😀 emoji', '^[ literal caret']) expect(visible(s)).toBe(s);
  });

  it('converts non-strings', () => {
    expect(visible(null)).toBe('null');
    expect(visible(42)).toBe('42');
  });

  it('never lets a raw control or bidi character through (fuzzed)', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(RAW.test(visible(s))).toBe(false);
        expect(RAW.test(visible(s, { newlines: true, tabs: true }).replace(/[\n\t]/g, ''))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('safeJson()', () => {
  it('escapes what JSON.stringify leaves raw and keeps the value', () => {
    const v = { a: '\x1b]0;t\x07', b: '\x9b2J', c: '\u202e\u2028' };
    const s = safeJson(v);
    expect(RAW.test(s)).toBe(false);
    expect(s).not.toMatch(/[\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(v);
  });

  it('round-trips any value with nothing raw (fuzzed)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), anyString, (v, s) => {
        const value = { v, s };
        const out = safeJson(value, 2);
        expect(RAW.test(out.replace(/\n/g, ''))).toBe(false);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('stripEscapes()', () => {
  const cases: [string, string, string][] = [
    ['OSC 52 ended by BEL', 'a\x1b]52;c;cHduZWQ=\x07b', 'ab'],
    ['OSC 0 ended by ESC \\', 'a\x1b]0;title\x1b\\b', 'ab'],
    ['OSC ended by C1 ST', 'a\x1b]0;title\x9cb', 'ab'],
    ['C1 OSC', 'a\x9d0;title\x07b', 'ab'],
    ['CSI 2J', 'a\x1b[2Jb', 'ab'],
    ['CSI with private parameters', 'a\x1b[?1049hb\x1b[38;2;255;0;0mc', 'abc'],
    ['C1 CSI', 'a\x9b2Jb', 'ab'],
    ['DCS (7-bit and C1)', 'a\x1bPq#0;2;0;0;0\x1b\\b\x90qx\x9cc', 'abc'],
    ['APC, PM, SOS', 'a\x1b_x\x1b\\b\x1b^y\x1b\\c\x1bXz\x1b\\d', 'abcd'],
    ['ESC c (reset) and ESC 7/8', 'a\x1bcb\x1b7c\x1b8d', 'abcd'],
    ['ESC with intermediates: ESC ( B, ESC # 8', 'a\x1b(Bb\x1b#8c', 'abc'],
    ['CR and BS that would overwrite a line', 'rm -rf /\rls -la\b\b', 'rm -rf /ls -la'],
    ['other C0, DEL and C1 dropped', 'a\x00\x05\x7f\x85\x8db', 'ab'],
    ['CAN aborts a sequence', 'a\x1b[12\x18b', 'ab'],
    ['ESC inside a string starts a new sequence', 'a\x1b]0;x\x1b[2Jb', 'ab'],
    ['a CSI broken by a non-ASCII character keeps it', 'a\x1b[1é', 'aé'],
    ['bidi embeddings, overrides and isolates dropped; marks kept', 'a\u202eb\u2066c\u2069d\u200fe', 'abcd\u200fe'],
    ['newlines and tabs kept', 'line 1\n\tline 2\n', 'line 1\n\tline 2\n'],
    ['an unterminated string swallows the rest', 'a\x1b]52;c;never ends', 'a'],
    ['plain text unchanged', 'héllo 日本 😀', 'héllo 日本 😀'],
  ];
  for (const [what, input, expected] of cases) {
    it(what, () => expect(stripEscapes(input)).toBe(expected));
  }

  it('a sequence split across chunks is still removed, at every split point', () => {
    const input = 'Hi \x1b]52;c;cHduZWQ=\x07\x1b]0;t\x1b\\\x1b[2J\x9b1m\x90q\x9cthere\n';
    const whole = stripEscapes(input);
    expect(whole).toBe('Hi there\n');
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j += 3) {
        const s = new EscapeStripper();
        expect(s.push(input.slice(0, i)) + s.push(input.slice(i, j)) + s.push(input.slice(j)), `${i},${j}`).toBe(whole);
      }
    }
  });

  it('never lets a raw control through, and chunking never changes the result (fuzzed)', () => {
    fc.assert(
      fc.property(anyString, fc.array(fc.nat(), { maxLength: 4 }), (s, cuts) => {
        const out = stripEscapes(s);
        expect(RAW_AFTER_STRIP.test(out)).toBe(false);
        const points = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
        const st = new EscapeStripper();
        let prev = 0;
        let streamed = '';
        for (const p of [...points, s.length]) {
          streamed += st.push(s.slice(prev, p));
          prev = p;
        }
        expect(streamed).toBe(out);
      }),
      { numRuns: 3000 },
    );
  });

  it('text without controls passes through unchanged (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (s) => {
        const plain = s.replace(new RegExp(RAW_AFTER_STRIP.source, 'g'), '');
        expect(stripEscapes(plain)).toBe(plain);
      }),
    );
  });
});
