// `tether run [--session ID] "message"` and `tether run --shell "cmd"`: one-shot use of a session.
// The reply streams to stdout as it arrives; tool activity goes to stderr. Ctrl-C aborts the run.
//
// What reaches the terminal: the reply text, and the output of `--shell`, with escape sequences
// stripped unless --raw (the user reads them; --raw is for piping exact text). `--shell` output is
// not a terminal stream: the command ran without a tty, and its output comes back inside a JSON
// message the server controls, so it is treated like the reply. Everything else (tool calls, errors,
// session ids, statuses) is server text shown through the sanitiser.
import { constants } from 'node:os';
import { ShellPartData as ShellPartDataSchema, describeIssue } from '../client/schemas.js';
import type { Message, RunEvent } from '../client/types.js';
import { TetherError, UsageError } from '../errors.js';
import { dim } from './output.js';
import { ApiError } from '../client/errors.js';
import { withClient, type ClientFlags } from './client-common.js';
import { chooseSession, noModelLines, type SessionFlags } from './run-session.js';
import { tetherCommand } from './invocation.js';
import { EscapeStripper, stripEscapes, visible } from './sanitize.js';

export interface RunOptions extends ClientFlags, SessionFlags {
  timeout?: string;
  raw?: boolean;
}

/** Prints streamed assistant text exactly once, whether it arrives as parts, deltas or updates. */
export class ReplyPrinter {
  private readonly assistant = new Set<string>();
  private readonly printed = new Map<string, number>();
  /** One per text part: a sequence split across deltas is still recognised. */
  private readonly strippers = new Map<string, EscapeStripper>();
  /** Error parts shown as they came, so the run's ending does not repeat them. */
  readonly errorsShown = new Set<string>();

  constructor(
    private readonly out: (s: string) => void,
    private readonly info: (s: string) => void,
    private readonly raw = false,
  ) {}

  handle(e: RunEvent): void {
    const p = e.properties;
    if (e.type === 'message.created') {
      const m = p.message as Message;
      if (m.role === 'assistant') this.assistant.add(m.id);
      return;
    }
    if (e.type === 'message.part' || e.type === 'message.part.updated') {
      const part = p.part as { id: string; messageId: string; type: string; data: unknown };
      if (!this.assistant.has(part.messageId)) return;
      const data = (typeof part.data === 'object' && part.data !== null ? part.data : {}) as Record<string, unknown>;
      if (part.type === 'text' && typeof data.text === 'string') this.text(part.id, 0, data.text);
      else if (e.type === 'message.part' && part.type === 'tool_call') {
        this.info(dim(visible(`[${String(data.toolName)}] ${JSON.stringify(data.input) ?? ''}`), process.stderr) + '\n');
      } else if (e.type === 'message.part' && part.type === 'error') {
        this.info(`error: ${visible(data.message)}\n`);
        this.errorsShown.add(String(data.message));
      }
      return;
    }
    if (e.type === 'message.part.delta') this.text(String(p.partId), Number(p.offset), String(p.text));
  }

  private text(partId: string, offset: number, text: string): void {
    const done = this.printed.get(partId) ?? 0;
    const end = offset + text.length;
    if (end <= done || offset > done) return;
    this.out(this.clean(partId, text.slice(done - offset)));
    this.printed.set(partId, end);
  }

  private clean(partId: string, text: string): string {
    if (this.raw) return text;
    let s = this.strippers.get(partId);
    if (!s) this.strippers.set(partId, (s = new EscapeStripper()));
    return s.push(text);
  }

  get printedAnything(): boolean {
    return this.printed.size > 0;
  }
}

function parseTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 3_600_000) throw new UsageError(`--timeout must be milliseconds from 1 to 3600000, not "${v}"`);
  return Number(v);
}

export async function runCommand(message: string | undefined, opts: RunOptions): Promise<void> {
  if (opts.shell === undefined && (message === undefined || message.trim() === '')) {
    throw new UsageError(`give a message to send, e.g. ${tetherCommand('run "explain src/app.ts"')}, or --shell "cmd"`);
  }
  if (opts.shell !== undefined && message !== undefined) throw new UsageError('give either a message or --shell, not both');
  const timeoutMs = parseTimeout(opts.timeout);
  const raw = Boolean(opts.raw);
  await withClient(opts, async (client) => {
    let chosen = await chooseSession(client, opts);
    const sessionId = () => chosen.id;
    const ctl = new AbortController();
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      chosen.announce();
      process.stderr.write('\ninterrupted: aborting the run...\n');
      void client.abortSession(sessionId()).catch(() => {});
    };
    process.on('SIGINT', onSigint);
    try {
      if (opts.shell !== undefined) {
        const shell = () => client.shell(sessionId(), opts.shell!, { timeoutMs }, undefined, ctl.signal);
        const m = await shell().catch(async (err: unknown) => {
          // The shared shell session became busy (another command) since it was picked: use a new one.
          if (!(chosen.reused && err instanceof ApiError && err.code === 'session_busy')) throw err;
          chosen = await chooseSession(client, opts, { avoid: chosen.id });
          return shell();
        });
        chosen.announce();
        process.exitCode = reportShell(m, raw, client.url);
      } else {
        const printer = new ReplyPrinter(
          (s) => process.stdout.write(s),
          (s) => process.stderr.write(s),
          raw,
        );
        const m = await client
          .sendMessage(
            sessionId(),
            message!,
            (e) => {
              chosen.announce();
              printer.handle(e);
            },
            ctl.signal,
          )
          .catch(async (err: unknown) => {
            if (!(err instanceof ApiError && err.code === 'no_provider')) throw err;
            // Refused before anything was recorded: do not leave an empty session behind.
            if (chosen.created) await client.deleteSession(chosen.id).catch(() => {});
            process.stderr.write(noModelLines(err.message));
            process.exitCode = 1;
            return null;
          });
        if (m === null) return;
        chosen.announce();
        if (!printer.printedAnything) {
          for (const part of m.parts) {
            const text = (part.data as { text?: unknown } | null)?.text;
            if (part.type === 'text' && typeof text === 'string') process.stdout.write(raw ? text : stripEscapes(text));
          }
        }
        process.stdout.write('\n');
        if (m.status !== 'completed') {
          if (!(m.error && printer.errorsShown.has(m.error))) process.stderr.write(`${visible(runEnded('run', m))}\n`);
          process.exitCode = interrupted ? 130 : 1;
        }
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

/**
 * How a run that did not complete ended, said once. The server's `error` is a whole phrase: for an
 * abort it says so itself ("aborted by request"), so it is not put after the status word again.
 */
export function runEnded(what: 'run' | 'command', m: Pick<Message, 'status' | 'error'>): string {
  const error = m.error?.trim() || null;
  if (m.status === 'aborted') {
    if (!error || error === 'aborted') return `the ${what} was aborted`;
    return error.startsWith('aborted') ? `the ${what} was ${error}` : `the ${what} was aborted: ${error}`;
  }
  if (m.status === 'error') return error ? `the ${what} failed: ${error}` : `the ${what} failed`;
  return `the ${what} ended ${m.status}${error ? `: ${error}` : ''}`;
}

/** Prints a shell message's output and returns the exit code to exit with. */
function reportShell(m: Message, raw: boolean, url: string): number {
  const part = m.parts.find((p) => p.type === 'shell');
  if (!part) {
    process.stderr.write(`${visible(runEnded('command', m))}\n`);
    return 1;
  }
  const r = ShellPartDataSchema.safeParse(part.data);
  if (!r.success) throw new TetherError('bad_response', `unexpected response from ${url}: the shell result ${describeIssue(r.error)}`, 502, 1);
  const d = r.data;
  process.stdout.write(raw ? d.stdout : stripEscapes(d.stdout));
  process.stderr.write(raw ? d.stderr : stripEscapes(d.stderr));
  if (d.stdoutTruncated || d.stderrTruncated) process.stderr.write('[output was truncated by the server]\n');
  if (d.timedOut) {
    process.stderr.write(`command timed out after ${visible(d.durationMs)} ms and was killed\n`);
    return 124;
  }
  if (d.aborted) return 130;
  if (d.exitCode !== null) return d.exitCode;
  if (d.signal) {
    process.stderr.write(`command killed by ${visible(d.signal)}\n`);
    return 128 + (signalNumber(d.signal) ?? 0);
  }
  return 1;
}

function signalNumber(name: string): number | undefined {
  return Object.hasOwn(constants.signals, name) ? (constants.signals as Record<string, number>)[name] : undefined;
}
