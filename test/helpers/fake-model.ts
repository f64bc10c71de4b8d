import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for tests: it answers each
// `POST /v1/chat/completions` with the next reply from a queue (streamed as SSE when the request
// asks for `stream: true`, as one JSON body otherwise) and records every request it got.

export interface ScriptedToolCall {
  id?: string;
  name: string;
  /** Arguments: an object is sent as JSON (split across chunks); a string is sent verbatim. */
  args: unknown;
}

export type ScriptedReply =
  /** Assistant text, one SSE chunk per element. */
  | { text: string[] }
  /** Tool calls, optionally preceded by text. */
  | { toolCalls: ScriptedToolCall[]; text?: string[] }
  /** An HTTP error with an OpenAI-style error body. */
  | { status: number; message: string }
  /** Stream these chunks, then keep the response open until the client goes away (for abort tests). */
  | { hang: true; text?: string[] };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: any;
}

export interface FakeModel {
  /** Base URL to give the provider, e.g. `http://127.0.0.1:1234/v1`. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Queue replies, served in order. */
  reply(...replies: ScriptedReply[]): void;
  /** Used when the queue is empty (e.g. a model that calls tools forever). Default: HTTP 500. */
  fallback: ((request: RecordedRequest, index: number) => ScriptedReply) | undefined;
  /** Responses currently held open by `hang` replies. */
  readonly openStreams: number;
  close(): Promise<void>;
}

let callCounter = 0;

function sse(res: http.ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

function argsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args);
}

function streamReply(res: http.ServerResponse, model: string, reply: ScriptedReply, onHang: () => void): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  sse(res, chunk(model, { role: 'assistant', content: '' }));
  const texts = 'text' in reply && reply.text ? reply.text : [];
  for (const t of texts) sse(res, chunk(model, { content: t }));
  if ('hang' in reply) {
    onHang();
    return;
  }
  if ('toolCalls' in reply) {
    reply.toolCalls.forEach((call, index) => {
      const id = call.id ?? `call_${++callCounter}`;
      const text = argsText(call.args);
      // Name first with empty arguments, then the arguments in two pieces, as real servers do.
      sse(res, chunk(model, { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      const mid = Math.floor(text.length / 2);
      for (const piece of [text.slice(0, mid), text.slice(mid)]) {
        if (piece) sse(res, chunk(model, { tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
    sse(res, chunk(model, {}, 'tool_calls'));
  } else {
    sse(res, chunk(model, {}, 'stop'));
  }
  res.end('data: [DONE]\n\n');
}

function jsonReply(res: http.ServerResponse, model: string, reply: ScriptedReply, onHang: () => void): void {
  if ('hang' in reply) {
    onHang();
    return; // never answers
  }
  const text = 'text' in reply && reply.text ? reply.text.join('') : '';
  const toolCalls =
    'toolCalls' in reply
      ? reply.toolCalls.map((c) => ({ id: c.id ?? `call_${++callCounter}`, type: 'function', function: { name: c.name, arguments: argsText(c.args) } }))
      : undefined;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 0,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text || null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
          finish_reason: toolCalls ? 'tool_calls' : 'stop',
        },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }),
  );
}

export async function startFakeModel(): Promise<FakeModel> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  const held = new Set<http.ServerResponse>();

  const fake: FakeModel = {
    baseURL: '',
    requests,
    reply: (...replies) => void queue.push(...replies),
    fallback: undefined,
    get openStreams() {
      return held.size;
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = http.createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      let parsed: any = undefined;
      try {
        parsed = JSON.parse(Buffer.concat(body).toString('utf8'));
      } catch {
        // recorded as undefined; the test will notice
      }
      const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: parsed };
      requests.push(recorded);
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `fake model: no route ${req.method} ${req.url}` } }));
        return;
      }
      const reply = queue.shift() ??
        fake.fallback?.(recorded, requests.length - 1) ?? { status: 500, message: `fake model: no scripted reply for request ${requests.length}` };
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: reply.message, type: 'fake_error', code: null } }));
        return;
      }
      const onHang = () => {
        held.add(res);
        res.on('close', () => held.delete(res));
      };
      const model = typeof parsed?.model === 'string' ? parsed.model : 'fake';
      if (parsed?.stream === true) streamReply(res, model, reply, onHang);
      else jsonReply(res, model, reply, onHang);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
