// The flow-control rules alone (src/pty/flow.ts), on a fake clock: when a terminal pauses and
// resumes, and which client is closed for holding the others back.
import { describe, expect, it } from 'vitest';
import { FlowControl } from '../../src/pty/flow.js';

const HIGH = 1000;
const LOW = 200;
const TIMEOUT = 10_000;

function flow(): FlowControl<string> {
  return new FlowControl<string>({ highWaterBytes: HIGH, lowWaterBytes: LOW, slowClientTimeoutMs: TIMEOUT });
}

describe('FlowControl: pause and resume', () => {
  it('never pauses with no clients (output goes to the scrollback only)', () => {
    const f = flow();
    expect(f.evaluate([], 0)).toEqual({ paused: false, evict: [] });
    expect(f.evaluate([['a', 5000]], 1)).toEqual({ paused: true, evict: [] });
    expect(f.evaluate([], 2)).toEqual({ paused: false, evict: [] }); // the last client left
  });

  it('pauses above the high mark and resumes only at or below the low mark (hysteresis)', () => {
    const f = flow();
    expect(f.evaluate([['a', HIGH]], 0).paused).toBe(false); // at the mark: not above it
    expect(f.evaluate([['a', HIGH + 1]], 1).paused).toBe(true);
    expect(f.evaluate([['a', HIGH - 1]], 2).paused).toBe(true); // between the marks: stays paused
    expect(f.evaluate([['a', LOW + 1]], 3).paused).toBe(true);
    expect(f.evaluate([['a', LOW]], 4).paused).toBe(false);
    expect(f.evaluate([['a', HIGH - 1]], 5).paused).toBe(false); // between the marks: stays running
    expect(f.isPaused).toBe(false);
  });

  it('pauses when every client is behind, and waits for the slowest', () => {
    const f = flow();
    expect(
      f.evaluate(
        [
          ['a', 2000],
          ['b', 3000],
        ],
        0,
      ).paused,
    ).toBe(true);
    expect(
      f.evaluate(
        [
          ['a', 0],
          ['b', 500],
        ],
        1,
      ).paused,
    ).toBe(true);
    expect(
      f.evaluate(
        [
          ['a', 0],
          ['b', LOW],
        ],
        2,
      ).paused,
    ).toBe(false);
  });

  it('pauses for the slowest client even while another keeps up (bounded backlog, nothing dropped)', () => {
    const f = flow();
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', HIGH + 1],
        ],
        0,
      ),
    ).toEqual({ paused: true, evict: [] });
  });
});

describe('FlowControl: the slow-client timeout', () => {
  it('closes a client that alone holds the others back longer than the timeout, then resumes', () => {
    const f = flow();
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', 5000],
        ],
        0,
      ),
    ).toEqual({ paused: true, evict: [] });
    expect(f.holdingSince('slow')).toBe(0);
    expect(f.holdingSince('fast')).toBeNull();
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', 4000],
        ],
        TIMEOUT - 1,
      ),
    ).toEqual({ paused: true, evict: [] });
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', 4000],
        ],
        TIMEOUT,
      ),
    ).toEqual({ paused: false, evict: ['slow'] });
    expect(f.holdingSince('slow')).toBeNull();
  });

  it('counts only uninterrupted holding back: a client that lets the terminal run starts over', () => {
    const f = flow();
    f.evaluate(
      [
        ['fast', 0],
        ['slow', 5000],
      ],
      0,
    );
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', LOW],
        ],
        9000,
      ).paused,
    ).toBe(false); // caught up: resumed
    f.evaluate(
      [
        ['fast', 0],
        ['slow', 5000],
      ],
      9500,
    ); // behind again
    expect(f.holdingSince('slow')).toBe(9500);
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', 5000],
        ],
        9500 + TIMEOUT - 1,
      ).evict,
    ).toEqual([]);
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', 5000],
        ],
        9500 + TIMEOUT,
      ).evict,
    ).toEqual(['slow']);
  });

  it('holds a client responsible between the marks too (it still keeps the terminal paused)', () => {
    const f = flow();
    f.evaluate(
      [
        ['fast', 0],
        ['slow', 5000],
      ],
      0,
    );
    // Read down to just above the low mark, then stalled there: still the reason for the pause.
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', LOW + 1],
        ],
        5000,
      ).evict,
    ).toEqual([]);
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', LOW + 1],
        ],
        TIMEOUT,
      ),
    ).toEqual({ paused: false, evict: ['slow'] });
  });

  it('never closes anyone while every client is behind: the program just waits', () => {
    const f = flow();
    for (let t = 0; t <= 10 * TIMEOUT; t += 1000) {
      expect(
        f.evaluate(
          [
            ['a', 5000],
            ['b', LOW + 1],
          ],
          t,
        ),
      ).toEqual({ paused: true, evict: [] });
    }
    expect(f.holdingSince('a')).toBeNull();
    // A lone slow client is "every client".
    const g = flow();
    for (let t = 0; t <= 10 * TIMEOUT; t += 1000) expect(g.evaluate([['a', 5000]], t)).toEqual({ paused: true, evict: [] });
  });

  it('starts the clock only once someone is waiting', () => {
    const f = flow();
    f.evaluate(
      [
        ['a', 5000],
        ['b', 5000],
      ],
      0,
    );
    f.evaluate(
      [
        ['a', 5000],
        ['b', 0],
      ],
      30_000,
    ); // b caught up; a now holds b back
    expect(f.holdingSince('a')).toBe(30_000);
    expect(
      f.evaluate(
        [
          ['a', 5000],
          ['b', 0],
        ],
        30_000 + TIMEOUT - 1,
      ).evict,
    ).toEqual([]);
    expect(
      f.evaluate(
        [
          ['a', 5000],
          ['b', 0],
        ],
        30_000 + TIMEOUT,
      ).evict,
    ).toEqual(['a']);
  });

  it('closes every client that holds others back, keeps the one that caught up', () => {
    const f = flow();
    f.evaluate(
      [
        ['fast', 0],
        ['s1', 5000],
        ['s2', 5000],
        ['reader', 5000],
      ],
      0,
    );
    f.evaluate(
      [
        ['fast', 0],
        ['s1', 5000],
        ['s2', 5000],
        ['reader', 100],
      ],
      4000,
    ); // reader caught up
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['s1', 5000],
          ['s2', 5000],
          ['reader', 100],
        ],
        TIMEOUT,
      ),
    ).toEqual({ paused: false, evict: ['s1', 's2'] });
  });

  it('forgets a client that detached', () => {
    const f = flow();
    f.evaluate(
      [
        ['fast', 0],
        ['slow', 5000],
      ],
      0,
    );
    expect(f.evaluate([['fast', 0]], 1)).toEqual({ paused: false, evict: [] });
    expect(f.holdingSince('slow')).toBeNull();
    f.evaluate(
      [
        ['fast', 0],
        ['slow', 5000],
      ],
      5000,
    ); // came back: the clock starts over
    expect(f.holdingSince('slow')).toBe(5000);
  });

  it('a zero timeout closes the holder at once', () => {
    const f = new FlowControl<string>({ highWaterBytes: HIGH, lowWaterBytes: LOW, slowClientTimeoutMs: 0 });
    expect(
      f.evaluate(
        [
          ['fast', 0],
          ['slow', 5000],
        ],
        7,
      ),
    ).toEqual({ paused: false, evict: ['slow'] });
  });

  it('refuses inconsistent settings, naming them', () => {
    const make = (h: number, l: number, t: number) => () => new FlowControl({ highWaterBytes: h, lowWaterBytes: l, slowClientTimeoutMs: t });
    expect(make(100, 100, 0)).toThrow(/highWaterBytes must be an integer above lowWaterBytes \(100\), got 100/);
    expect(make(100, -1, 0)).toThrow(/lowWaterBytes/);
    expect(make(1.5, 0, 0)).toThrow(/highWaterBytes/);
    expect(make(100, 0, Number.NaN)).toThrow(/slowClientTimeoutMs/);
  });
});
