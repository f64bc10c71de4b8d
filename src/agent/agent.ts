import fs from 'node:fs/promises';
import { stepCountIs, streamText, type FinishReason, type ModelMessage } from 'ai';
import { DEFAULT_AGENT_MAX_STEPS } from '../config/effective.js';
import { UsageError, errorMessage } from '../errors.js';
import type { RunCommand } from './command.js';
import { systemPrompt } from './prompt.js';
import type { ProviderSettings } from './provider.js';
import type { Place } from '../fs/place.js';
import { ModelUnreachableError } from './reach.js';
import { createTools, isToolFailure } from './tools.js';

// The agent loop: one user prompt, then model steps and tool calls until the model answers
// without calling a tool, `maxSteps` is reached, or the signal aborts. Everything the caller
// needs to display or persist arrives through `onPart` while it streams.

export type AgentPart =
  /** A piece of assistant text as it streams (for live display; `text` repeats it whole). */
  | { type: 'text-delta'; text: string }
  /** A finished block of assistant text. */
  | { type: 'text'; text: string }
  | { type: 'tool_call'; toolCallId: string; toolName: string; input: unknown }
  /** `isError` when the tool failed (output is `{ error }`); the model sees the same output. */
  | { type: 'tool_result'; toolCallId: string; toolName: string; output: unknown; isError: boolean }
  /** The provider failed (unreachable, HTTP error, bad response). The run ends. */
  | { type: 'error'; message: string };

export interface HistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface RunAgentOptions {
  settings: ProviderSettings;
  /** The session directory; the tools cannot reach outside it. */
  directory: string;
  /** Its pinned `dev:ino` (see ToolOptions.pin); default: what it is when the run starts. */
  directoryPin?: string;
  /** The scopes of the token that started the run (see ToolOptions.place). */
  place?: Place;
  history: HistoryMessage[];
  prompt: string;
  signal: AbortSignal;
  /** Model calls at most (each may run tools). Default 20. */
  maxSteps?: number;
  onPart: (part: AgentPart) => void;
  /** Runner for `run_command` (tests inject fakes); default: the one command runner (proc/run.ts, via command.ts). */
  runCommand?: RunCommand;
  /** Retries of a failed model request (AI SDK default 2, with backoff). */
  maxRetries?: number;
  /** Each valid tool call, just before the tool acts (see ToolOptions.onToolCall). */
  onToolCall?: (tool: string, input: unknown) => void;
}

export interface AgentResult {
  /** The assistant text of the last step (its final answer when it finished normally). */
  text: string;
  /** Completed model steps. */
  steps: number;
  /**
   * Why it ended: the AI SDK's reason of the last step (`stop`; `tool-calls` when `maxSteps`
   * stopped a model that still wanted tools; `length` ...), or `aborted`, or `error`.
   */
  finishReason: FinishReason | 'aborted';
  aborted: boolean;
}

/** One default, shown by GET /config too. */
export const DEFAULT_MAX_STEPS = DEFAULT_AGENT_MAX_STEPS;

export async function runAgent(options: RunAgentOptions): Promise<AgentResult> {
  const { settings, directory, signal } = options;
  // A throwing callback is the caller's bug: let its error out as it is (not as an 'error' part).
  let callbackError: unknown;
  const onPart = (part: AgentPart) => {
    try {
      options.onPart(part);
    } catch (err) {
      callbackError = err;
      throw err;
    }
  };
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new UsageError(`maxSteps must be a positive integer (got ${maxSteps})`);
  const dir = await fs.realpath(directory).catch(() => {
    throw new UsageError(`the agent's directory ${directory} does not exist`);
  });

  // Our own controller, so the run also stops (tools, HTTP stream) if `onPart` throws.
  const controller = new AbortController();
  const forward = () => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });

  const messages: ModelMessage[] = [
    ...options.history.map((m): ModelMessage => ({ role: m.role, content: m.content })),
    { role: 'user', content: options.prompt },
  ];

  let steps = 0;
  let finishReason: FinishReason | 'aborted' = 'other';
  let failed = false;
  let stepText = '';
  let pending = '';
  const flushText = () => {
    if (pending) onPart({ type: 'text', text: pending });
    pending = '';
  };
  const fail = (err: unknown) => {
    failed = true;
    // Name the provider: "connect ECONNREFUSED" alone does not say which setting to fix.
    const message =
      err instanceof ModelUnreachableError
        ? `cannot reach the model at ${settings.baseURL}: ${err.reason}. That URL is ${settings.urlVariable ? `${settings.urlVariable} in the server's environment` : 'the server setting modelUrl (see `tether config` or the Settings page)'}`
        : `model provider ${settings.baseURL}: ${errorMessage(err)}`;
    onPart({ type: 'error', message: settings.redact(message) });
  };

  try {
    const result = streamText({
      model: settings.createModel(),
      system: systemPrompt(dir),
      messages,
      tools: createTools({
        directory: dir,
        ...(options.directoryPin ? { pin: options.directoryPin } : {}),
        ...(options.place ? { place: options.place } : {}),
        ...(options.runCommand ? { runCommand: options.runCommand } : {}),
        ...(options.onToolCall ? { onToolCall: options.onToolCall } : {}),
      }),
      stopWhen: stepCountIs(maxSteps),
      abortSignal: controller.signal,
      ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
      // Errors arrive as stream parts below; the SDK's default handler would log them to the console.
      onError: () => {},
    });

    for await (const part of result.fullStream) {
      switch (part.type) {
        case 'start-step':
          stepText = '';
          break;
        case 'text-delta':
          if (!part.text) break;
          pending += part.text;
          stepText += part.text;
          onPart({ type: 'text-delta', text: part.text });
          break;
        case 'text-end':
          flushText();
          break;
        case 'tool-call':
          flushText();
          onPart({ type: 'tool_call', toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
          break;
        case 'tool-result':
          onPart({
            type: 'tool_result',
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            output: part.output,
            isError: isToolFailure(part.output),
          });
          break;
        case 'tool-error':
          // The SDK's own failures around a tool (unknown tool, input failing the schema); it
          // sends the same message to the model, which can correct the call.
          onPart({
            type: 'tool_result',
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            output: { error: settings.redact(errorMessage(part.error)) },
            isError: true,
          });
          break;
        case 'finish-step':
          steps++;
          break;
        case 'finish':
          finishReason = part.finishReason;
          break;
        case 'error':
          fail(part.error);
          break;
        default:
          break;
      }
    }
  } catch (err) {
    if (err === callbackError) throw err;
    if (!controller.signal.aborted) fail(err);
  } finally {
    signal.removeEventListener('abort', forward);
    controller.abort();
  }
  flushText();

  const aborted = signal.aborted;
  if (aborted) finishReason = 'aborted';
  else if (failed) finishReason = 'error';
  return { text: stepText, steps, finishReason, aborted };
}
