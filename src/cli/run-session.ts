// Which session `tether run` uses, and the hint it prints when the server has no model.
// - `--session ID`: that one.
// - `--shell` (without --new-session or --title): the project's "shell" session, reused from one
//   command to the next (the newest idle one; the server lists only this project's sessions), so
//   running commands does not leave a session per command behind. Created when there is none.
// - Otherwise a new session, titled by the server from its first message (or --title).
import type { TetherClient } from '../client/client.js';
import { ApiError } from '../client/errors.js';
import { dim } from './output.js';
import { visible } from './sanitize.js';

export const SHELL_SESSION_TITLE = 'shell';

export interface SessionFlags {
  session?: string;
  title?: string;
  shell?: string;
  newSession?: boolean;
}

export interface ChosenSession {
  id: string;
  /** Made for this run: remove it again if the first request is refused. */
  created: boolean;
  /** An existing shell session: another one is made if it turns out busy. */
  reused: boolean;
  /** Says which session was made (once), when the server has accepted the request: a session
   * removed after a refusal is never announced. */
  announce(): void;
}

export async function chooseSession(client: TetherClient, flags: SessionFlags, opts: { avoid?: string } = {}): Promise<ChosenSession> {
  const quiet = () => {};
  if (flags.session !== undefined) return { id: flags.session, created: false, reused: false, announce: quiet };
  const shared = flags.shell !== undefined && !flags.newSession && flags.title === undefined;
  if (shared && opts.avoid === undefined) {
    // A server that cannot list sessions (404) just gets a new one: reuse is a convenience.
    const listed = await client.listSessions().catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    });
    const idle = listed.find((s) => s.title === SHELL_SESSION_TITLE && !s.busy);
    if (idle) return { id: idle.id, created: false, reused: true, announce: quiet };
  }
  const title = shared ? SHELL_SESSION_TITLE : flags.title?.slice(0, 200);
  const s = await client.createSession(title ? { title } : {});
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    process.stderr.write(dim(`session ${visible(s.id)} (continue it with --session ${visible(s.id)})`, process.stderr) + '\n');
  };
  return { id: s.id, created: true, reused: false, announce };
}

/**
 * The refusal for a server without a model, in two lines: what is missing (the server's words, first
 * line only), and the commands that fix it (ours, so the server cannot write a line that looks like
 * the CLI's own).
 */
export function noModelLines(serverMessage: string): string {
  const what = serverMessage.split('\n', 1)[0]!;
  const both = /modelUrl and model/.test(what);
  const fix = [
    both || /modelUrl/.test(what) ? 'tether config set modelUrl http://127.0.0.1:11434/v1' : '',
    both || !/modelUrl/.test(what) ? 'tether config set model NAME' : '',
  ].filter(Boolean);
  return `tether: ${visible(what)}\n  Fix it (these are the server's settings): ${fix.join(' && ')}\n`;
}
