import fs from 'node:fs/promises';
import { statSync } from 'node:fs';
// The agent and the model SDK are loaded on the first prompt, not at server start (start-up time).
import type { ProviderConfig } from '../agent/provider.js';
import { DEFAULT_AGENT_MAX_STEPS } from '../config/effective.js';
import { ForbiddenError, UsageError, errorMessage } from '../errors.js';
import type { AuditDetails } from '../audit/kinds.js';
import type { EventBus } from '../events.js';
import { checkPin, isInside, resolveInside } from '../fs/confine.js';
import type { Place } from '../fs/place.js';
import { idOf } from '../fs/reserved.js';
import { startAgentMessage } from './agent-run.js';
import { RunEvents, RunRegistry, afterRun, type RunHandle, type RunRegistryOptions, type StartedRun } from './runs.js';
import { emptyResult, runShell, validateShellOptions, type ShellOptions, type ShellResult } from './shell.js';
import { titleFrom } from './title.js';
import { sessionNotFound, type NewMessage, type NewPart, type SessionStore } from './store.js';
import type { FinalStatus, Message, MessageCreate, Part, Session, SessionCreate, SessionPatch, ShellCommand, ShellPartData } from './types.js';

// The session domain as routes and the agent use it: the store, plus confinement of directories
// to the project, one run per session (shell commands and agent prompts), and lifecycle events.
// Every change that goes through here is published; writing to the store directly publishes nothing.
//
// A scoped caller passes its Place: it creates sessions only in a directory inside it, lists and
// finds by id only sessions whose directory lies inside it (any other is "not found", like an
// unknown id), and the agent it runs has its tools confined to it too. Every event carries the
// session's directory as its place, for the scope filter of `GET /event`.

/** How long `abortAndWait` waits for the run to wind down by default. */
export const ABORT_WAIT_MS = 10_000;

/**
 * Server-wide settings of the session's shell commands (clients choose only the command and its
 * timeout). The program is always the runner's default, bash if installed, else /bin/sh (see
 * proc/run.ts): the `shell` setting (PATCH /config) is the terminal's program, and is deliberately
 * not used here, so there is no `shell` field. The runner always drops the server's `TETHER_*`
 * variables (which may hold the model API key) from `env`.
 */
export type SessionShellOptions = Pick<ShellOptions, 'maxOutputBytes' | 'killGraceMs' | 'env'>;

/** Where the agent's settings come from, read at each prompt so a PATCH /config applies to the next one. */
export interface SessionAgentOptions {
  /** The server's settings: the provider (modelUrl, model, apiKey) and agentMaxSteps; default none. */
  config?: () => Promise<ProviderConfig & { agentMaxSteps?: number }>;
  /** Environment the provider settings fall back to (TETHER_MODEL_*); default process.env. */
  env?: () => NodeJS.ProcessEnv;
  /** Retries of a failed model request; default the AI SDK's (2, with backoff). */
  maxRetries?: number;
  /** How often streamed assistant text is saved while it streams (default 1000 ms). */
  snapshotIntervalMs?: number;
}

export interface SessionServiceOptions extends RunRegistryOptions {
  store: SessionStore;
  events: EventBus;
  /** Sessions' directories must lie inside it. */
  projectDir: string;
  shell?: SessionShellOptions;
  agent?: SessionAgentOptions;
}

/**
 * The audit trail of a run: told before a command or tool acts and when a command ends. The route
 * binds the caller (token, address) and the session; the service says what runs.
 */
export type RunAudit = <K extends 'shell.start' | 'shell.exit' | 'agent.tool'>(kind: K, details: Omit<AuditDetails[K], 'sessionId'>) => void;

/** For a run: `signal` (e.g. the HTTP request's) also aborts it; `watch` collects its events for the caller;
 * `place`: the caller's scopes, which the session must lie in and the agent's tools are confined to;
 * `audit`: the run's audit trail. */
export interface RunOptions {
  signal?: AbortSignal;
  watch?: boolean;
  place?: Place;
  audit?: RunAudit;
}

export class SessionService {
  private readonly store: SessionStore;
  private readonly events: EventBus;
  private readonly projectDir: string;
  private readonly shell: SessionShellOptions;
  private readonly agent: SessionAgentOptions;
  private readonly runs: RunRegistry;
  /** Session id -> directory (it never changes): the place of its events, also after it is deleted. */
  private readonly places = new Map<string, string>();

  constructor(options: SessionServiceOptions) {
    this.store = options.store;
    this.events = options.events;
    this.projectDir = options.projectDir;
    // Only these: whatever else an untyped caller passes (a `shell`) never reaches the runner.
    const { maxOutputBytes, killGraceMs, env } = options.shell ?? {};
    this.shell = { maxOutputBytes, killGraceMs, env };
    this.agent = options.agent ?? {};
    this.runs = new RunRegistry(options);
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

  /** `directory` is relative to the project (or absolute inside it, and inside `place`); default the project itself. */
  async create(input: SessionCreate = {}, place?: Place): Promise<Session> {
    // Pinned by identity: a directory later moved away or swapped for a symlink is refused.
    const directory = await this.confineDirectory(input.directory ?? '.', place);
    const session = this.store.createSession({ title: input.title, directory: directory.path, directoryId: directory.id });
    this.places.set(session.id, session.directory);
    this.publish(session.id, 'session.created', { session });
    return session;
  }

  /**
   * The sessions this server can run (those whose directory is inside its project: the database is
   * shared by every server this user starts), or of those, the ones inside `place`.
   */
  list(place?: Place): Session[] {
    const all = this.store.listSessions().filter((s) => isInside(this.projectDir, s.directory));
    return place === undefined ? all : all.filter((s) => place.contains(s.directory));
  }

  /**
   * One session; NotFoundError for an unknown id, and (the same error) for one outside `place`. One
   * of another project (the database is shared by every server this user starts) is refused here,
   * so no by-id route reads, changes or runs in it.
   */
  get(id: string, place?: Place): Session {
    const session = this.store.getSession(id);
    if (!isInside(this.projectDir, session.directory)) {
      throw new ForbiddenError(
        `session ${id} belongs to another project, outside this server's project ${this.projectDir}; ` +
          'use it from a server started with that project, or start a new session here',
        'session_other_project',
      );
    }
    if (place !== undefined && !place.contains(session.directory)) throw sessionNotFound(id);
    return session;
  }

  update(id: string, patch: SessionPatch): Session {
    const session = this.store.updateSession(id, patch);
    this.publish(id, 'session.updated', { session });
    return session;
  }

  /**
   * Deletes the session and everything in it. A run in progress is aborted first; its later
   * writes then fail with NotFoundError, which is what its caller should see.
   */
  delete(id: string): void {
    const place = this.placeOf(id);
    this.store.deleteSession(id);
    this.runs.drop(id);
    this.events.publish('session.deleted', { sessionId: id }, place);
    this.places.delete(id);
  }

  /** The directory a session's events concern (undefined for one never seen, already gone). */
  private placeOf(sessionId: string): string | undefined {
    let dir = this.places.get(sessionId);
    if (dir === undefined) {
      try {
        dir = this.store.getSession(sessionId).directory;
        this.places.set(sessionId, dir);
      } catch {
        return undefined;
      }
    }
    return dir;
  }

  private publish(sessionId: string, type: string, properties: Record<string, unknown>): void {
    this.events.publish(type, properties, this.placeOf(sessionId));
  }

  /**
   * The session's directory, checked now: still inside the project, and still the very directory
   * (device and inode) it was when the session was created; not something moved or symlinked into
   * its place since. Returns its path and its pin (`dev:ino`) for the agent's tools.
   */
  async directory(sessionId: string): Promise<{ path: string; pin: string }> {
    const session = this.get(sessionId);
    const missing = () =>
      new UsageError(`the session's directory ${session.directory} does not exist any more; create a new session`, 'session_directory_missing');
    const replaced = () =>
      new ForbiddenError(
        `the session's directory ${session.directory} was moved or replaced (e.g. by a symlink) after the session was created; ` +
          'nothing runs there any more: create a new session',
        'session_directory_replaced',
      );
    const dir = await this.confineDirectory(session.directory).catch((err: unknown) => {
      throw err instanceof UsageError ? missing() : err;
    });
    // A symlink on the way (inside the project) leads somewhere else than where the session was made.
    if (dir.path !== session.directory) throw replaced();
    let pin = this.store.directoryId(sessionId);
    if (pin === null) {
      pin = dir.id;
      this.store.pinDirectory(sessionId, pin);
    }
    await checkPin({ real: dir.path, pin }).catch((err: unknown) => {
      throw err instanceof ForbiddenError ? replaced() : err;
    });
    return { path: dir.path, pin };
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

  /** `abort`, then waits (at most `timeoutMs`) for the run to wind down, so the session is free again. */
  async abortAndWait(sessionId: string, timeoutMs = ABORT_WAIT_MS): Promise<boolean> {
    const aborted = this.abort(sessionId);
    if (aborted) await this.runs.waitIdle(sessionId, timeoutMs);
    return aborted;
  }

  /** Shutdown: aborts every run and waits (at most `timeoutMs`) for them to record their end. */
  async stopAll(timeoutMs: number): Promise<void> {
    await this.runs.abortAll(timeoutMs);
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
    this.publish(sessionId, 'message.created', { sessionId, message });
    return message;
  }

  appendPart(messageId: string, input: NewPart): Part {
    const part = this.store.appendPart(messageId, input);
    this.publish(part.sessionId, 'message.part', { sessionId: part.sessionId, messageId, part });
    return part;
  }

  updatePart(partId: string, data: unknown): Part {
    const part = this.store.updatePart(partId, data);
    this.publish(part.sessionId, 'message.part.updated', { sessionId: part.sessionId, messageId: part.messageId, part });
    return part;
  }

  finishMessage(messageId: string, input: { status: FinalStatus; error?: string | null }): Message {
    const message = this.store.finishMessage(messageId, input);
    this.publish(message.sessionId, 'message.completed', {
      sessionId: message.sessionId,
      messageId,
      status: message.status,
      error: message.error,
    });
    return message;
  }

  // --- shell commands and agent prompts ---

  /**
   * Runs a command in the session's directory and records it as one message (role 'shell') with
   * one 'shell' part: appended with the command when it starts (so clients see what runs), then
   * updated with the result. A non-zero exit is still status 'completed' (the command ran; the exit
   * code is in the part); a timeout is 'error', an abort 'aborted'. Returns the finished message.
   */
  async runShell(sessionId: string, input: ShellCommand, tokenId: string | null, options: RunOptions = {}): Promise<Message> {
    return (await this.startShell(sessionId, input, tokenId, options)).done;
  }

  /**
   * `runShell`, resolving once the command has started: every refusal (400 bad input, 404, 400/403
   * directory, 409 busy) comes before anything is recorded, and then the run's outcome is `done`.
   */
  async startShell(sessionId: string, input: ShellCommand, tokenId: string | null, options: RunOptions = {}): Promise<StartedRun> {
    const valid = validateShellOptions({ ...this.shell, command: input.command, timeoutMs: input.timeoutMs });
    this.get(sessionId, options.place);
    const cwd = (await this.directory(sessionId)).path;
    return this.claim(sessionId, tokenId, options, async (run) => {
      this.autoTitle(sessionId, valid.command);
      const message = this.createMessage(sessionId, { role: 'shell', tokenId, status: 'running' });
      const start: ShellPartData = { ...emptyResult(), command: valid.command, cwd, done: false, durationMs: null };
      const part = this.appendPart(message.id, { type: 'shell', data: start });
      const audit = options.audit;
      audit?.('shell.start', { command: valid.command, cwd });
      let result: ShellResult;
      try {
        result = await runShell({ ...valid, cwd, signal: run.signal, env: this.shell.env });
      } catch (err) {
        const error = `failed to run command: ${errorMessage(err)}`;
        audit?.('shell.exit', { command: valid.command, exitCode: null, signal: null, durationMs: null, error });
        return afterRun(sessionId, 'the command', () => this.finishMessage(message.id, { status: 'error', error }));
      }
      const { status, error } = shellOutcome(result, valid.timeoutMs);
      audit?.('shell.exit', {
        command: valid.command,
        exitCode: result.exitCode,
        signal: result.signal,
        durationMs: result.durationMs,
        ...(result.timedOut ? { timedOut: true } : {}),
        ...(result.aborted ? { aborted: true } : {}),
      });
      return afterRun(sessionId, 'the command', () => {
        this.updatePart(part.id, { ...start, ...result, done: true } satisfies ShellPartData);
        return this.finishMessage(message.id, { status, error });
      });
    });
  }

  /**
   * Prompts the agent in the session's directory: records the prompt (role user) and the agent's
   * reply (role assistant, see agent-run.ts). Returns the finished assistant message.
   */
  async runAgent(sessionId: string, input: MessageCreate, tokenId: string | null, options: RunOptions = {}): Promise<Message> {
    return (await this.startAgent(sessionId, input, tokenId, options)).done;
  }

  /**
   * `runAgent`, resolving once the prompt is recorded and the agent started. Refusals come first,
   * before anything is recorded: 404, 503 (no or invalid provider), 400/403 directory, 409 busy.
   */
  async startAgent(sessionId: string, input: MessageCreate, tokenId: string | null, options: RunOptions = {}): Promise<StartedRun> {
    this.get(sessionId, options.place);
    const config = (await this.agent.config?.()) ?? {};
    const { resolveProviderSettings } = await import('../agent/provider.js');
    const settings = resolveProviderSettings(config, this.agent.env ? this.agent.env() : process.env);
    const directory = await this.directory(sessionId);
    return this.claim(sessionId, tokenId, options, (run) => {
      this.autoTitle(sessionId, input.text);
      return startAgentMessage({
        service: this,
        store: this.store,
        events: this.events,
        sessionId,
        text: input.text,
        tokenId,
        settings,
        directory: directory.path,
        directoryPin: directory.pin,
        ...(options.place ? { place: options.place } : {}),
        maxSteps: config.agentMaxSteps ?? DEFAULT_AGENT_MAX_STEPS,
        signal: run.signal,
        ...(this.agent.maxRetries !== undefined ? { maxRetries: this.agent.maxRetries } : {}),
        ...(this.agent.snapshotIntervalMs !== undefined ? { snapshotIntervalMs: this.agent.snapshotIntervalMs } : {}),
        ...(options.audit ? { onToolCall: toolAudit(options.audit, directory.path) } : {}),
      }).done;
    });
  }

  /** A session still untitled takes its title from its first message (see title.ts). */
  private autoTitle(sessionId: string, text: string): void {
    const title = titleFrom(text);
    if (title && this.store.titleIfUntitled(sessionId, title)) this.events.publish('session.updated', { session: this.store.getSession(sessionId) });
  }

  /**
   * Claims the session and starts `body` in the same tick (nothing can slip in between), with the
   * caller's event tap opened at the claim; the run is followed until it settles and releases the
   * session when it does.
   */
  private claim(sessionId: string, tokenId: string | null, options: RunOptions, body: (run: RunHandle) => Promise<Message>): StartedRun {
    const events = options.watch ? new RunEvents(this.events, sessionId) : null;
    let run: RunHandle;
    let done: Promise<Message>;
    try {
      run = this.beginRun(sessionId, options);
      try {
        done = body(run);
      } catch (err) {
        run.end();
        throw err;
      }
    } catch (err) {
      events?.close();
      throw err;
    }
    done = done.finally(() => run.end());
    this.runs.follow(sessionId, tokenId, run, done);
    return { done, events };
  }

  /** The one confinement of a session directory: inside the project (src/fs), an existing directory; with its `dev:ino`. */
  private async confineDirectory(input: string, place?: Place): Promise<{ path: string; id: string }> {
    const dir = await resolveInside(this.projectDir, input, place);
    let stat;
    try {
      stat = await fs.stat(dir, { bigint: true });
    } catch {
      throw new UsageError(`directory "${input}" does not exist (it must be an existing directory inside the project)`);
    }
    if (!stat.isDirectory()) throw new UsageError(`"${input}" is not a directory`);
    return { path: dir, id: idOf(stat) };
  }
}

function shellOutcome(r: ShellResult, timeoutMs: number): { status: FinalStatus; error: string | null } {
  if (r.aborted) return { status: 'aborted', error: 'aborted' };
  if (r.timedOut) return { status: 'error', error: `command timed out after ${timeoutMs} ms` };
  return { status: 'completed', error: null };
}

/** An agent tool call as the audit trail records it: the tool, and its command or path (never content). */
function toolAudit(audit: RunAudit, directory: string): (tool: string, input: unknown) => void {
  return (tool, input) => {
    const i = (typeof input === 'object' && input !== null ? input : {}) as { command?: unknown; path?: unknown };
    audit('agent.tool', {
      tool,
      directory,
      ...(typeof i.command === 'string' ? { command: i.command } : {}),
      ...(typeof i.path === 'string' ? { path: i.path } : {}),
    });
  };
}
