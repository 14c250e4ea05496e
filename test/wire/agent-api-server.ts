/**
 * A tiny HTTP server that serves the agent APIs through the wire adapters, for tests that use
 * the official clients as agents. The HTTP layer is not the wire's: this fake does only what
 * the service will do around an adapter (route, translate, answer or stream), with a scripted
 * runtime that sees each Chat Completions request and answers Chat Completions.
 */
import http from 'node:http';
import { completionToAgentStream, type AgentApi, type ChatTranslation } from '../../src/wire/agent-api.js';
import { agentApiForPath, createAgentApis, type AgentApis } from '../../src/wire/agent-apis.js';
import { modelsListBody } from '../../src/wire/models-list.js';
import { countTokensBody } from '../../src/wire/token-estimate.js';
import { ModelServiceError } from '../../src/errors.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { completionText } from '../helpers/chat-completion.js';

/** What the scripted runtime answers: a whole chat.completion (local mode), or chunk texts fed one by one (proxy mode). */
export type RuntimeAnswer =
  | { completion: string }
  | { chunks: string[]; failAfter?: { status: number; code: string; message: string } }
  /** Native mode: the runtime answers in the agent's own API. */
  | { native: string };

export interface SeenCall {
  path: string;
  /** The Chat Completions request the runtime saw, parsed. */
  chat: Record<string, unknown>;
  /** Its text, numbers as written. */
  chatText: string;
  dropped: string[];
}

export interface AgentApiServer {
  url: string;
  apis: AgentApis;
  seen: SeenCall[];
  close(): Promise<void>;
}

/** Starts the fake on a loopback port; `runtime` answers each translated request. */
export async function startAgentApiServer(runtime: (call: SeenCall) => RuntimeAnswer, apis: AgentApis = createAgentApis()): Promise<AgentApiServer> {
  const seen: SeenCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      void serve(req, res, body).catch((err: unknown) => {
        res.destroy(err as Error);
      });
    });
  });

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const path = req.url ?? '/';
    if (req.method === 'GET' && path.startsWith('/v1/models')) {
      return send(res, 200, modelsListBody(['policy-a', 'policy-b'], Date.UTC(2025, 0, 2)));
    }
    if (path.startsWith('/v1/messages/count_tokens')) return send(res, 200, countTokensBody(body));
    const api = agentApiForPath(apis, path);
    if (api === undefined) return send(res, 404, apis.chat.errorBody(404, 'RMS_NOT_FOUND', `no route ${path}`));
    let translation: ChatTranslation<unknown>;
    try {
      translation = api.toChat(body);
    } catch (err) {
      return sendError(res, api, err);
    }
    const call: SeenCall = { path, chat: JSON.parse(translation.chat), chatText: translation.chat, dropped: translation.dropped };
    seen.push(call);
    const answer = runtime(call);
    if ('native' in answer) {
      if (!translation.stream) return send(res, 200, answer.native);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return void res.end(api.finalToStream(answer.native));
    }
    if (!translation.stream) {
      const completion = 'completion' in answer ? answer.completion : aggregate(answer.chunks);
      try {
        return send(res, 200, api.fromChat(completion, translation.state, seen.length));
      } catch (err) {
        return sendError(res, api, err);
      }
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const stream = api.createStream(translation.state, seen.length);
    res.write(stream.start());
    res.write(stream.heartbeat());
    if ('completion' in answer) {
      try {
        res.end(completionToAgentStream(stream, answer.completion, seen.length));
      } catch (err) {
        const e = err as ModelServiceError;
        res.end(stream.fail(e.httpStatus, e.code, e.message));
      }
      return;
    }
    for (const chunk of answer.chunks) {
      res.write(stream.push(chunk));
      // A real upstream's chunks arrive apart: let each reach the client before the next.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (answer.failAfter) res.end(stream.fail(answer.failAfter.status, answer.failAfter.code, answer.failAfter.message));
    else res.end(stream.end());
  }

  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    apis,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
  res.end(body);
}

function sendError(res: http.ServerResponse, api: AgentApi<unknown>, err: unknown): void {
  if (!(err instanceof ModelServiceError)) throw err;
  send(res, err.httpStatus, api.errorBody(err.httpStatus, err.code, err.message));
}

/** The completion a list of chunks amounts to, for a plain call answered from a chunk script. */
function aggregate(chunks: string[]): string {
  const message: Record<string, unknown> = { role: 'assistant', content: '' };
  const calls: { id?: string; type: string; function: { name: string; arguments: string } }[] = [];
  let finish = 'stop';
  let usage: object | undefined;
  for (const text of chunks) {
    if (text === '[DONE]') continue;
    const chunk = JSON.parse(text);
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const d = choice.delta ?? {};
    if (typeof d.content === 'string') message.content += d.content;
    if (typeof d.reasoning_content === 'string') message.reasoning_content = String(message.reasoning_content ?? '') + d.reasoning_content;
    for (const tc of d.tool_calls ?? []) {
      const c = (calls[tc.index] ??= { type: 'function', function: { name: '', arguments: '' } });
      if (tc.id) c.id = tc.id;
      if (tc.function?.name) c.function.name = tc.function.name;
      if (tc.function?.arguments) c.function.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  if (calls.length > 0) message.tool_calls = calls;
  return completionText(message, finish, usage ?? null);
}
