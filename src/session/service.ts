import fs from 'node:fs/promises';
import { statSync } from 'node:fs';
import { ForbiddenError, NotFoundError, UsageError, errorMessage } from '../errors.js';
import type { EventBus } from '../events.js';
import { resolveInside } from '../fs/confine.js';
import { idOf } from '../fs/reserved.js';
import { RunRegistry, type RunHandle } from './runs.js';
import { emptyResult, runShell, validateShellOptions, type ShellResult } from './shell.js';
import type { NewMessage, NewPart, SessionStore } from './store.js';
import type { FinalStatus, Message, Part, Session, ShellPartData } from './types.js';

// The session domain as routes and the agent use it: the store, plus confinement of directories
// to the project, one run per session, shell commands, and lifecycle events. Every change that
// goes through here is published; writing to the store directly publishes nothing.

export interface SessionServiceOptions {
  store: SessionStore;
  events: EventBus;
  /** Sessions' directories must lie inside it. */
  projectDir: string;
  /** Server-wide settings for `runShell` (clients choose only the command and its timeout). */
  shell?: { maxOutputBytes?: number; killGraceMs?: number; env?: NodeJS.ProcessEnv };
}

export class SessionService {
  private readonly store: SessionStore;
  private readonly events: EventBus;
  private readonly projectDir: string;
  private readonly shell: NonNullable<SessionServiceOptions['shell']>;
  private readonly runs = new RunRegistry();

  constructor(options: SessionServiceOptions) {
    this.store = options.store;
    this.events = options.events;
    this.projectDir = options.projectDir;
    this.shell = options.shell ?? {};
    // Fail at start-up, not on the first command, if the server was configured wrongly.
    validateShellOptions({ command: 'true', ...this.shell });
    // Sessions from before directory pins: pinned on first load (a missing directory stays
    // unpinned until it is used, when it is pinned or refused).
    for (const s of this.store.unpinnedSessions()) {
      try {
        const st = statSync(s.directory, { bigint: true, throwIfNoEntry: false });
        if (st?.isDirectory()) this.store.pinDirectory(s.id, idOf(st));
      } catch {
        // unreadable: judged when used
      }
    }
  }

  // --- sessions ---

  /** `directory` is relative to the project (or absolute inside it); default the project itself. */
  async create(input: { title?: string; directory?: string } = {}): Promise<Session> {
    const directory = await this.confineDirectory(input.directory ?? '.');
    // Pinned by identity: a directory later moved away or swapped for a symlink is refused.
    const directoryId = idOf(await fs.stat(directory, { bigint: true }));
    const session = this.store.createSession({ title: input.title, directory, directoryId });
    this.events.publish('session.created', { session });
    return session;
  }

  list(): Session[] {
    return this.store.listSessions();
  }

  get(id: string): Session {
    return this.store.getSession(id);
  }

  update(id: string, patch: { title?: string }): Session {
    const session = this.store.updateSession(id, patch);
    this.events.publish('session.updated', { session });
    return session;
  }

  /**
   * Deletes the session and everything in it. A run in progress is aborted first; its later
   * writes then fail with NotFoundError, which is what its caller should see.
   */
  delete(id: string): void {
    this.store.deleteSession(id);
    this.runs.drop(id);
    this.events.publish('session.deleted', { sessionId: id });
  }

  /**
   * The session's directory, checked now: still inside the project, and still the very directory
   * (device and inode) it was when the session was created; not something moved or symlinked into
   * its place since. Returns its path and its pin (`dev:ino`) for the agent's tools.
   */
  async directory(sessionId: string): Promise<{ path: string; pin: string }> {
    const session = this.store.getSession(sessionId);
    const missing = () =>
      new UsageError(`the session's directory ${session.directory} does not exist any more; create a new session`, 'session_directory_missing');
    const dir = await this.confineDirectory(session.directory).catch((err) => Promise.reject(err instanceof UsageError ? missing() : err));
    const st = await fs.lstat(session.directory, { bigint: true }).catch(() => Promise.reject(missing()));
    let pin = this.store.directoryId(sessionId);
    if (pin === null) {
      pin = idOf(st);
      this.store.pinDirectory(sessionId, pin);
    }
    if (dir !== session.directory || !st.isDirectory() || idOf(st) !== pin) {
      throw new ForbiddenError(
        `the session's directory ${session.directory} was moved or replaced (e.g. by a symlink) after the session was created; ` +
          'nothing runs there any more: create a new session',
        'session_directory_replaced',
      );
    }
    return { path: dir, pin };
  }

  // --- runs ---

  /**
   * Claims the session for one request (a shell command or an agent prompt). Throws NotFoundError
   * for an unknown session and ConflictError (409, code `session_busy`) while another request
   * runs in it. Call `end()` in a `finally`. `options.signal` (e.g. the HTTP request's) also
   * aborts the run.
   */
  beginRun(sessionId: string, options: { signal?: AbortSignal } = {}): RunHandle {
    this.store.getSession(sessionId);
    return this.runs.begin(sessionId, options.signal);
  }

  isBusy(sessionId: string): boolean {
    return this.runs.isBusy(sessionId);
  }

  /**
   * Aborts the session's running request. Returns false if nothing was running. The session stays
   * busy until the run has wound down (for a shell command, up to its kill grace period).
   */
  abort(sessionId: string): boolean {
    this.store.getSession(sessionId);
    return this.runs.abort(sessionId);
  }

  // --- messages (the agent writes through these so that events go out) ---

  listMessages(sessionId: string): Message[] {
    return this.store.listMessages(sessionId);
  }

  getMessage(messageId: string): Message {
    return this.store.getMessage(messageId);
  }

  createMessage(sessionId: string, input: NewMessage): Message {
    const message = this.store.createMessage(sessionId, input);
    this.events.publish('message.created', { sessionId, message });
    return message;
  }

  appendPart(messageId: string, input: NewPart): Part {
    const part = this.store.appendPart(messageId, input);
    this.events.publish('message.part', { sessionId: part.sessionId, messageId, part });
    return part;
  }

  updatePart(partId: string, data: unknown): Part {
    const part = this.store.updatePart(partId, data);
    this.events.publish('message.part.updated', { sessionId: part.sessionId, messageId: part.messageId, part });
    return part;
  }

  finishMessage(messageId: string, input: { status: FinalStatus; error?: string | null }): Message {
    const message = this.store.finishMessage(messageId, input);
    this.events.publish('message.completed', {
      sessionId: message.sessionId,
      messageId,
      status: message.status,
      error: message.error,
    });
    return message;
  }

  // --- shell ---

  /**
   * Runs a command in the session's directory and records it as one message (role 'shell') with
   * one 'shell' part: appended with the command when it starts (so clients see what runs), then
   * updated with the result. A non-zero exit is still status 'completed' (the command ran; the exit
   * code is in the part); a timeout is 'error', an abort 'aborted'. Returns the finished message.
   */
  async runShell(
    sessionId: string,
    input: { command: string; timeoutMs?: number },
    tokenId: string | null,
    options: { signal?: AbortSignal } = {},
  ): Promise<Message> {
    // Refuse bad input before taking the session or recording anything.
    const valid = validateShellOptions({ ...this.shell, command: input.command, timeoutMs: input.timeoutMs });
    const session = this.store.getSession(sessionId);
    const run = this.beginRun(sessionId, options);
    try {
      // Again at run time: the directory (or a symlink on its path) may have changed since creation.
      const cwd = (await this.directory(session.id)).path;
      const message = this.createMessage(sessionId, { role: 'shell', tokenId, status: 'running' });
      const start: ShellPartData = { ...emptyResult(), command: valid.command, cwd, done: false, durationMs: null };
      const part = this.appendPart(message.id, { type: 'shell', data: start });

      let result: ShellResult;
      try {
        result = await runShell({ ...valid, cwd, signal: run.signal, env: this.shell.env });
      } catch (err) {
        return this.afterRun(sessionId, () =>
          this.finishMessage(message.id, { status: 'error', error: `failed to run command: ${errorMessage(err)}` }),
        );
      }
      const { status, error } = outcome(result, valid.timeoutMs);
      return this.afterRun(sessionId, () => {
        this.updatePart(part.id, { ...start, ...result, done: true } satisfies ShellPartData);
        return this.finishMessage(message.id, { status, error });
      });
    } finally {
      run.end();
    }
  }

  /** Writes after an await: the session may have been deleted meanwhile. */
  private afterRun(sessionId: string, write: () => Message): Message {
    try {
      return write();
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(`session "${sessionId}" was deleted while the command ran`, 'session_not_found');
      }
      throw err;
    }
  }

  private async confineDirectory(input: string): Promise<string> {
    const dir = await resolveInside(this.projectDir, input);
    let stat;
    try {
      stat = await fs.stat(dir);
    } catch {
      throw new UsageError(`directory "${input}" does not exist (it must be an existing directory inside the project)`);
    }
    if (!stat.isDirectory()) throw new UsageError(`"${input}" is not a directory`);
    return dir;
  }
}

function outcome(r: ShellResult, timeoutMs: number): { status: FinalStatus; error: string | null } {
  if (r.aborted) return { status: 'aborted', error: 'aborted' };
  if (r.timedOut) return { status: 'error', error: `command timed out after ${timeoutMs} ms` };
  return { status: 'completed', error: null };
}
