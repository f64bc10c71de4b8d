// The agent (and with it the AI SDK) is imported by the first run, not when the server starts.
import type { AgentPart, AgentResult, HistoryMessage, RunAgentOptions } from '../agent/agent.js';
import type { ProviderSettings } from '../agent/provider.js';
import { NotFoundError, errorMessage } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Place } from '../fs/place.js';
import { RunAborted, afterRun } from './runs.js';
import type { SessionService } from './service.js';
import type { SessionStore } from './store.js';
import type { FinalStatus, Message, Part, ShellPartData } from './types.js';

// The glue between one prompt (`SessionService.runAgent`) and the agent: record the user's prompt, run
// the agent with the session's history, and record what it produces as one assistant message.
//
// Parts of the assistant message:
// - `text` {text}: one per block of assistant text. Streamed text is not written per token: the
//   part is created with the first chunk, each further chunk goes out only as a
//   `message.part.delta` event ({partId, offset, text}), the stored text is refreshed at most every
//   SNAPSHOT_INTERVAL_MS (without an event) for readers that poll, and the block's final text is
//   written once at its end (`message.part.updated`).
// - `tool_call` {toolCallId, toolName, input} and `tool_result` {toolCallId, toolName, output, isError}.
// - `error` {message}: the provider failed (already redacted of the API key by the agent).
//
// The assistant message ends `completed`; `aborted` (by POST /abort, deleting the session, the
// caller's token being revoked, or shutdown); or `error` (provider failure, the step limit reached
// before the model finished, or an unexpected failure).

export const SNAPSHOT_INTERVAL_MS = 1000;
/** Shell output carried into the model's history, per stream. */
export const HISTORY_SHELL_OUTPUT_CHARS = 4000;
/** A tool call's input as summarised into history. */
const HISTORY_TOOL_INPUT_CHARS = 200;

export interface AgentMessageOptions {
  service: SessionService;
  /** For the throttled text snapshots, which publish no event. */
  store: SessionStore;
  /** Where `message.part.delta` events go (the same bus the service publishes on). */
  events: Pick<EventBus, 'publish'>;
  sessionId: string;
  text: string;
  tokenId: string | null;
  settings: ProviderSettings;
  /** The session's directory, already confined to the project. */
  directory: string;
  /** Its `dev:ino` pinned at the session's creation: the agent's tools refuse a directory that is no longer it. */
  directoryPin?: string;
  /** The scopes of the token that started the run: the agent's tools reach nothing outside them. */
  place?: Place;
  maxSteps: number;
  /** The session's run signal (from `beginRun`). */
  signal: AbortSignal;
  runCommand?: RunAgentOptions['runCommand'];
  maxRetries?: number;
  /** Default SNAPSHOT_INTERVAL_MS. */
  snapshotIntervalMs?: number;
  onToolCall?: RunAgentOptions['onToolCall'];
}

export interface StartedAgentMessage {
  userMessage: Message;
  assistantMessage: Message;
  /** The finished assistant message. Rejects only with NotFoundError if the session was deleted meanwhile. */
  done: Promise<Message>;
}

/**
 * Records the prompt and the (running) assistant message synchronously, so the caller knows both
 * ids before anything streams, then runs the agent. The caller must hold the session's run (from
 * `beginRun`) and end it when `done` settles.
 */
export function startAgentMessage(o: AgentMessageOptions): StartedAgentMessage {
  const history = buildHistory(o.service.listMessages(o.sessionId));
  // The prompt follows as a user turn: fold a trailing user turn (shell output) into it, so roles alternate.
  const trailing = history.at(-1)?.role === 'user' ? history.pop()!.content : undefined;
  const prompt = trailing === undefined ? o.text : `${trailing}\n\n${o.text}`;
  const userMessage = o.service.createMessage(o.sessionId, {
    role: 'user',
    tokenId: o.tokenId,
    status: 'completed',
    parts: [{ type: 'text', data: { text: o.text } }],
  });
  const assistantMessage = o.service.createMessage(o.sessionId, { role: 'assistant', tokenId: o.tokenId, status: 'running' });
  const recorder = new PartRecorder(o, assistantMessage.id);

  const done = (async (): Promise<Message> => {
    let result: AgentResult | undefined;
    let failure: unknown;
    try {
      const { runAgent } = await import('../agent/agent.js');
      result = await runAgent({
        settings: o.settings,
        directory: o.directory,
        ...(o.directoryPin ? { directoryPin: o.directoryPin } : {}),
        ...(o.place ? { place: o.place } : {}),
        history,
        prompt,
        signal: o.signal,
        maxSteps: o.maxSteps,
        onPart: (part) => recorder.record(part),
        ...(o.runCommand ? { runCommand: o.runCommand } : {}),
        ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
        ...(o.onToolCall ? { onToolCall: o.onToolCall } : {}),
      });
    } catch (err) {
      failure = err;
    }
    return afterRun(o.sessionId, 'the agent', () => {
      const end = outcome(result, failure, recorder.lastError, o);
      return o.service.finishMessage(assistantMessage.id, end);
    });
  })();
  return { userMessage, assistantMessage, done };
}

function outcome(
  result: AgentResult | undefined,
  failure: unknown,
  lastError: string | undefined,
  o: AgentMessageOptions,
): { status: FinalStatus; error: string | null } {
  if (o.signal.aborted || result?.aborted) return { status: 'aborted', error: abortReason(o.signal) };
  if (failure !== undefined) {
    // The session vanished under a write: let afterRun report it.
    if (failure instanceof NotFoundError) throw failure;
    return { status: 'error', error: o.settings.redact(`the agent failed: ${errorMessage(failure)}`) };
  }
  if (!result) return { status: 'error', error: 'the agent ended without a result' };
  if (result.finishReason === 'error') return { status: 'error', error: lastError ?? 'the model provider failed' };
  if (result.finishReason === 'tool-calls' && result.steps >= o.maxSteps) {
    return {
      status: 'error',
      error:
        `the agent stopped at the step limit (${o.maxSteps} model calls) before it finished; ` +
        'send another message to let it continue, or raise agentMaxSteps (`tether config set agentMaxSteps N` or the Settings page)',
    };
  }
  return { status: 'completed', error: null };
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  // RunRegistry's reasons are whole phrases ("aborted by request"); any other (e.g. a caller's signal) says just that.
  return r instanceof RunAborted && r.message ? r.message : 'aborted';
}

/** Turns the agent's parts into stored parts and events. */
class PartRecorder {
  private text: { partId: string; text: string; savedAt: number; savedLength: number } | null = null;
  lastError: string | undefined;

  constructor(
    private readonly o: AgentMessageOptions,
    private readonly messageId: string,
  ) {}

  record(part: AgentPart): void {
    const { service } = this.o;
    switch (part.type) {
      case 'text-delta':
        this.delta(part.text);
        break;
      case 'text': {
        if (this.text) service.updatePart(this.text.partId, { text: part.text });
        else service.appendPart(this.messageId, { type: 'text', data: { text: part.text } });
        this.text = null;
        break;
      }
      case 'tool_call':
        this.endText();
        service.appendPart(this.messageId, {
          type: 'tool_call',
          data: { toolCallId: part.toolCallId, toolName: part.toolName, input: part.input },
        });
        break;
      case 'tool_result':
        this.endText();
        service.appendPart(this.messageId, {
          type: 'tool_result',
          data: { toolCallId: part.toolCallId, toolName: part.toolName, output: part.output, isError: part.isError },
        });
        break;
      case 'error':
        this.endText();
        this.lastError = part.message;
        service.appendPart(this.messageId, { type: 'error', data: { message: part.message } });
        break;
      default:
        break;
    }
  }

  private delta(chunk: string): void {
    if (!chunk) return;
    const now = Date.now();
    if (!this.text) {
      // The first chunk creates the part (one `message.part` event with it).
      const created = this.o.service.appendPart(this.messageId, { type: 'text', data: { text: chunk } });
      this.text = { partId: created.id, text: chunk, savedAt: now, savedLength: chunk.length };
      return;
    }
    const offset = this.text.text.length;
    this.text.text += chunk;
    this.o.events.publish(
      'message.part.delta',
      {
        sessionId: this.o.sessionId,
        messageId: this.messageId,
        partId: this.text.partId,
        offset,
        text: chunk,
      },
      this.o.directory,
    );
    if (now - this.text.savedAt >= (this.o.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS)) this.snapshot(now);
  }

  /** The agent always sends `text` after its deltas; this is only a safety net. */
  private endText(): void {
    if (this.text && this.text.savedLength !== this.text.text.length) {
      this.o.service.updatePart(this.text.partId, { text: this.text.text });
    }
    this.text = null;
  }

  private snapshot(now: number): void {
    if (!this.text) return;
    // Directly in the store: no event (the deltas already carried the text).
    this.o.store.updatePart(this.text.partId, { text: this.text.text });
    this.text.savedAt = now;
    this.text.savedLength = this.text.text.length;
  }
}

// --- history ---

/**
 * The conversation so far, as the model sees it: user prompts; the text of assistant replies, with
 * a one-line summary of the tools each used (tool results are not replayed: the files are on disk,
 * the model can read them again); and shell commands the user ran (`POST /session/:id/shell`),
 * given as user turns with their exit code and up to HISTORY_SHELL_OUTPUT_CHARS of each stream.
 * Consecutive turns of one role are merged, since some chat templates (llama.cpp, vLLM) insist that
 * roles alternate.
 */
export function buildHistory(messages: Message[]): HistoryMessage[] {
  const out: HistoryMessage[] = [];
  const push = (role: HistoryMessage['role'], content: string) => {
    if (!content.trim()) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content += `\n\n${content}`;
    else out.push({ role, content });
  };
  for (const m of messages) {
    if (m.role === 'user') push('user', textOf(m.parts));
    else if (m.role === 'assistant') push('assistant', assistantContent(m));
    else if (m.role === 'shell') push('user', shellContent(m));
  }
  return out;
}

function textOf(parts: Part[]): string {
  return parts
    .filter((p) => p.type === 'text')
    .map((p) => (p.data as { text?: unknown }).text)
    .filter((t): t is string => typeof t === 'string')
    .join('\n\n');
}

function assistantContent(m: Message): string {
  const calls = m.parts
    .filter((p) => p.type === 'tool_call')
    .map((p) => {
      const d = p.data as { toolName?: unknown; input?: unknown };
      return `${String(d.toolName)} ${clip(JSON.stringify(d.input) ?? '', HISTORY_TOOL_INPUT_CHARS)}`;
    });
  const lines = [textOf(m.parts)];
  if (calls.length) lines.push(`[tools used in this turn: ${calls.join('; ')}]`);
  if (m.status === 'aborted') lines.push('[this reply was aborted by the user]');
  else if (m.status === 'error' && m.error) lines.push(`[this reply ended with an error: ${clip(m.error, 300)}]`);
  return lines.filter(Boolean).join('\n');
}

function shellContent(m: Message): string {
  const part = m.parts.find((p) => p.type === 'shell');
  if (!part) return '';
  const d = part.data as Partial<ShellPartData>;
  const lines = [`I ran a shell command in the working directory:\n$ ${d.command ?? ''}`];
  if (d.timedOut) lines.push('(it timed out and was killed)');
  else if (d.aborted || m.status === 'aborted') lines.push('(it was aborted)');
  else if (d.exitCode !== null && d.exitCode !== undefined) lines.push(`(exit code ${d.exitCode})`);
  else if (d.signal) lines.push(`(killed by ${d.signal})`);
  if (d.stdout) lines.push(`stdout:\n${clip(d.stdout, HISTORY_SHELL_OUTPUT_CHARS)}`);
  if (d.stderr) lines.push(`stderr:\n${clip(d.stderr, HISTORY_SHELL_OUTPUT_CHARS)}`);
  return lines.join('\n');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… [${s.length - max} more characters]`;
}
