import { describe, expect, it } from 'vitest';
import { AUTO_TITLE_MAX, titleFrom } from '../../src/session/title.js';

describe('titleFrom (a session title from its first message)', () => {
  it('takes the first non-blank line, with whitespace collapsed', () => {
    expect(titleFrom('\n\n   fix   the\tlogin test  \nand more')).toBe('fix the login test');
    expect(titleFrom('ls -la')).toBe('ls -la');
    expect(titleFrom('  \n \t ')).toBe('');
  });

  it('cuts a long line at a word, with an ellipsis, within the limit', () => {
    const long = 'please refactor the session store so that every query is prepared once and reused across calls';
    const t = titleFrom(long);
    expect([...t].length).toBeLessThanOrEqual(AUTO_TITLE_MAX);
    expect(t.endsWith('…')).toBe(true);
    expect(long.startsWith(t.slice(0, -1))).toBe(true);
    expect(t.at(-2)).not.toBe(' ');
    // One long word: cut inside it.
    expect([...titleFrom('x'.repeat(500))].length).toBe(AUTO_TITLE_MAX);
    // Astral characters are not split in half.
    expect(titleFrom('😀'.repeat(100))).toBe(`${'😀'.repeat(AUTO_TITLE_MAX - 1)}…`);
  });

  it('drops control and bidi formatting characters (a title is shown in lists)', () => {
    expect(titleFrom('a\x1b[31mred\x07 \u202eevil\u202c')).toBe('a [31mred evil');
    expect(titleFrom('\x00\x01')).toBe('');
  });
});
