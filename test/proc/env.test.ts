// The one child environment: terminals, session shell commands and the agent's commands get it.
import { describe, expect, it } from 'vitest';
import { INSTANCE_ID, INSTANCE_VAR, childEnv } from '../../src/proc/env.js';

describe('childEnv', () => {
  it('drops every TETHER_* variable of the base and keeps everything else', () => {
    const base = {
      PATH: '/bin',
      HOME: '/home/u',
      TETHER_MODEL_API_KEY: 'sk-secret',
      TETHER_TOKEN: 'tether_x',
      TETHER_URL: 'http://127.0.0.1:1',
      TETHER_: 'empty suffix',
      TETHER_INSTANCE: 'a parent server', // a tether server started inside a tether terminal
      AWS_SECRET_ACCESS_KEY: "the user's own",
      XTETHER_Y: 'not the prefix',
      tether_lower: 'not read by tether',
      UNSET: undefined,
    };
    expect(childEnv({ base })).toEqual({
      PATH: '/bin',
      HOME: '/home/u',
      AWS_SECRET_ACCESS_KEY: "the user's own",
      XTETHER_Y: 'not the prefix',
      tether_lower: 'not read by tether',
      [INSTANCE_VAR]: INSTANCE_ID,
    });
  });

  it('defaults to the server environment, scrubbed', () => {
    process.env.TETHER_MODEL_API_KEY = 'sk-must-not-leak';
    try {
      const env = childEnv();
      expect(env.TETHER_MODEL_API_KEY).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
      expect(Object.keys(env).filter((k) => k.startsWith('TETHER_'))).toEqual([INSTANCE_VAR]);
    } finally {
      delete process.env.TETHER_MODEL_API_KEY;
    }
  });

  it("omits named variables, then adds the caller's (any name), and always sets its own marker last", () => {
    const env = childEnv({
      base: { PATH: '/bin', TMUX: '/tmp/tmux', TERM: 'screen' },
      omit: ['TMUX'],
      add: { TERM: 'xterm-256color', TETHER_TOKEN: "the caller's own value", [INSTANCE_VAR]: 'forged' },
    });
    expect(env).toEqual({ PATH: '/bin', TERM: 'xterm-256color', TETHER_TOKEN: "the caller's own value", [INSTANCE_VAR]: INSTANCE_ID });
  });

  it('the instance id is 128 random bits in hex', () => {
    expect(INSTANCE_ID).toMatch(/^[0-9a-f]{32}$/);
  });
});
