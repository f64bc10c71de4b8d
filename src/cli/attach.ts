// `tether attach [--pty ID] [-- CMD ARGS...]`: the remote terminal in the user's own terminal. Raw
// mode, the remote size follows the local window, Ctrl-] detaches (the remote terminal keeps
// running), and when the remote process ends, attach exits with its exit code. With `--view` it
// only watches: the connection is view only (`?view=1`, the server ignores whatever it sends),
// nothing typed is sent and no resize either; without `--pty`, a share link's token watches the
// terminal it shares.
//
// The terminal's byte stream (binary frames) goes to stdout untouched: it is a terminal, escape
// sequences are its job. Everything attach says itself (ids, errors, close reasons) is server text
// shown through the sanitiser.
import type { WebSocket } from 'ws';
import { PTY_ID, PtyServerMessage as PtyServerMessageSchema } from '../client/schemas.js';
import type { CreatePty, PtyClientMessage, PtyServerMessage } from '../client/types.js';
import { DEFAULT_URL } from '../client/saved-credentials.js';
import { TetherError, UsageError } from '../errors.js';
import { withClient, type ClientFlags } from './client-common.js';
import { shellWord, tetherCommand } from './invocation.js';
import { visible } from './sanitize.js';

export const DETACH_KEY = 0x1d; // Ctrl-]
const CTRL_C = 0x03;

export interface AttachOptions extends ClientFlags {
  pty?: string;
  command?: string;
  view?: boolean;
}

/** Close codes from the server (see src/server/routes/pty.ts). */
const CLOSE_SHUTDOWN = 1001;
const CLOSE_TOKEN_GONE = 4401;
const CLOSE_NOT_FOUND = 4404;
const CLOSE_TEXT: Record<number, string> = {
  4008: "this client held back the terminal's other clients for too long",
};

/** The program (and its arguments) for a new terminal: `--command PROG` or `-- PROG ARGS...`. */
export function programOf(opts: AttachOptions, operands: string[]): Pick<CreatePty, 'command' | 'args'> {
  if (operands.length > 0 && opts.command !== undefined) {
    throw new UsageError('give the program either with --command or after --, not both');
  }
  if ((operands.length > 0 || opts.command !== undefined) && opts.pty !== undefined) {
    throw new UsageError('--pty attaches to a terminal that already runs its program: leave out --command and -- CMD');
  }
  if (opts.command !== undefined) return { command: opts.command };
  if (operands.length === 0) return {};
  const [command, ...args] = operands;
  if (command === '') throw new UsageError('the program after -- is empty');
  return { command: command!, ...(args.length ? { args } : {}) };
}

/** Output with backpressure: while stdout cannot keep up, stop reading the WebSocket (the server's
 * flow control then pauses the terminal), and read on once it drains. */
export function forwardOutput(ws: Pick<WebSocket, 'pause' | 'resume'>, out: NodeJS.WritableStream, data: Buffer): void {
  if (!out.write(data)) {
    ws.pause();
    out.once('drain', () => ws.resume());
  }
}

/** The command that attaches again, in the form the user can type here. */
function reattachCommand(id: string, url: string, opts: AttachOptions): string {
  const parts = [`attach${opts.view ? ' --view' : ''} --pty ${id}`];
  if (url !== DEFAULT_URL) parts.push(`--url ${shellWord(url)}`);
  // Flags the user gave (a secret --token is never printed: it comes from TETHER_TOKEN or the login).
  if (opts.caFile) parts.push(`--ca-file ${shellWord(opts.caFile)}`);
  if (opts.allowHttp) parts.push('--allow-http');
  return visible(tetherCommand(parts.join(' ')));
}

export async function attachCommand(opts: AttachOptions, operands: string[] = []): Promise<void> {
  validatePtyId(opts.pty);
  const view = Boolean(opts.view);
  if (view && (opts.command !== undefined || operands.length > 0)) {
    throw new UsageError('--view watches an existing terminal (--pty ID); it cannot start one with --command or -- CMD');
  }
  const program = programOf(opts, operands);
  // Raw mode needs a terminal; without one, attach would wait for keys that never come.
  if (!process.stdin.isTTY) {
    throw new UsageError(
      'attach needs a terminal, but standard input is not one (a pipe or a file); ' +
        `to run a command without a terminal, use \`${tetherCommand('run --shell "CMD"')}\``,
      'no_terminal',
    );
  }
  const code = await withClient(opts, async (client, target) => {
    const stdin = process.stdin;
    const stdout = process.stdout;
    const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
    let id = opts.pty;
    if (!id && view) id = await sharedTerminal(client);
    if (id) {
      const info = await client.getPty(id);
      if (view) process.stderr.write(`watching terminal ${visible(id)} (${info.cols}x${info.rows}), view only; detach with Ctrl-] or Ctrl-C\r\n`);
    } else {
      const pty = await client.createPty({ ...size(), ...program });
      id = pty.id;
      process.stderr.write(`created terminal ${visible(id)}; detach with Ctrl-]\r\n`);
    }
    const ws = await client.connectPty(id, { view });
    // A viewer sends nothing at all: no keystrokes, no resize (the server would ignore them anyway).
    const send = (msg: PtyClientMessage) => !view && ws.readyState === ws.OPEN && ws.send(JSON.stringify(msg));
    send({ type: 'resize', ...size() });

    stdin.setRawMode(true);
    stdin.resume();
    let detached = false;
    let exit: PtyServerMessage | undefined;
    const restore = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onInput);
      stdout.off('resize', onResize);
    };
    const onInput = (chunk: Buffer) => {
      // A viewer has nothing to send, so Ctrl-C detaches it too.
      const i = view ? chunk.findIndex((b) => b === DETACH_KEY || b === CTRL_C) : chunk.indexOf(DETACH_KEY);
      if (i !== -1) {
        if (i > 0 && !view) ws.send(chunk.subarray(0, i));
        detached = true;
        ws.close(1000, 'detached');
        return;
      }
      if (!view && ws.readyState === ws.OPEN) ws.send(chunk);
    };
    const onResize = () => send({ type: 'resize', ...size() });
    stdin.on('data', onInput);
    stdout.on('resize', onResize);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) forwardOutput(ws, stdout, data);
      else {
        let json: unknown;
        try {
          json = JSON.parse(data.toString('utf8'));
        } catch {
          return; // ignore malformed control frames
        }
        const r = PtyServerMessageSchema.safeParse(json);
        if (!r.success) return;
        const m = r.data;
        if (m.type === 'exit') exit = m;
        else process.stderr.write(`\r\ntether: ${visible(m.message)}\r\n`);
      }
    });
    const closing = waitClose(ws);
    ws.resume();
    const closed = await closing;
    restore();
    const reattach = reattachCommand(id, target.url, opts);
    if (detached) {
      process.stderr.write(`\r\ndetached from ${visible(id)}; it is still running. Reattach with: ${reattach}\n`);
      return 0;
    }
    if (exit?.type === 'exit' || closed.code === 1000) {
      const e = exit?.type === 'exit' ? exit : parseExitReason(closed.reason);
      if (e.exitCode !== null) return e.exitCode;
      return 128 + (e.signal ?? 0);
    }
    throw new TetherError('connection_closed', closeMessage(closed, visible(id), reattach), 500, 1);
  });
  process.exitCode = code;
}

/** The terminal a share link's token shares (from whoami), for `--view` without `--pty`. */
async function sharedTerminal(client: import('../client/client.js').TetherClient): Promise<string> {
  const me = await client.whoami();
  if (me.target?.type === 'pty' && PTY_ID.test(me.target.id)) return me.target.id;
  throw new UsageError('--view needs --pty ID (only a share link token for a terminal knows which terminal to watch)');
}

/** Why the terminal's connection ended, and a reattach hint only where reattaching can work. */
export function closeMessage(closed: { code: number; reason: string }, id: string, reattach: string): string {
  // The server ends every terminal it started when it shuts down: there is nothing to reattach to.
  if (closed.code === CLOSE_SHUTDOWN) return `the server shut down, and terminal ${id} ended with it`;
  if (closed.code === CLOSE_TOKEN_GONE) return 'the token was revoked or expired';
  if (closed.code === CLOSE_NOT_FOUND) return `terminal ${id} no longer exists`;
  const why = CLOSE_TEXT[closed.code] ?? `connection closed (${closed.code}${closed.reason ? `: ${visible(closed.reason)}` : ''})`;
  return `${why}; if the server still runs, reattach with: ${reattach}`;
}

function waitClose(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
}

function parseExitReason(reason: string): { exitCode: number | null; signal: number | null } {
  const m = /^(exit|signal):(\d{1,3})$/.exec(reason);
  // Only statuses a process can have: anything else would wrap around when attach exits with it.
  if (!m || Number(m[2]) > 255) return { exitCode: null, signal: null };
  return m[1] === 'exit' ? { exitCode: Number(m[2]), signal: null } : { exitCode: null, signal: Number(m[2]) };
}

export function validatePtyId(id: string | undefined): void {
  if (id !== undefined && !PTY_ID.test(id)) throw new UsageError(`--pty takes a terminal id like pty_0123456789abcdef, not "${id}"`);
}
