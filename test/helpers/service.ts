/**
 * A real local-mode service on a loopback port over a temporary data dir, with a runtime
 * stand-in that appends response lines through the protocol writer, and a reader of the log
 * that splits on the markers the way the reference does (independent of our scanners).
 */
import { readFileSync } from 'node:fs';
import type { ServiceConfigInput } from '../../src/config/resolve.js';
import { appendLine, closeAppendFd, openAppendFd } from '../../src/log-file/index.js';
import { compactJson, encodeResponseLine } from '../../src/protocol/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { makeTempDir, removeDir } from './temp-dir.js';

export interface LoggedLine {
  kind: 'request' | 'response' | 'session_end' | 'other';
  payload: string;
  index: number;
  raw: string;
}

/** Splits a log's text into lines the reference's way: marker split, last end marker, meta JSON. */
export function parseLog(text: string): LoggedLine[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.map((raw) => {
    for (const [kind, start, end] of [
      ['request', 'LLM_REQUEST_START', 'LLM_REQUEST_END'],
      ['response', 'LLM_RESPONSE_START', 'LLM_RESPONSE_END'],
    ] as const) {
      if (raw.startsWith(start)) {
        const cut = raw.lastIndexOf(end);
        return { kind, payload: raw.slice(start.length, cut), index: JSON.parse(raw.slice(cut + end.length)).index, raw };
      }
    }
    return { kind: raw.trim() === 'SESSION_END' ? 'session_end' : 'other', payload: '', index: -1, raw };
  });
}

export class TestService {
  readonly server: RunningServer;
  readonly dir: string;

  constructor(server: RunningServer, dir: string) {
    this.server = server;
    this.dir = dir;
  }

  get url(): string {
    return this.server.url;
  }

  get logFile(): string {
    return this.server.config.logFile;
  }

  /** The log's lines now. */
  lines(): LoggedLine[] {
    return parseLog(readFileSync(this.logFile, 'utf8'));
  }

  /** Appends response `index` as the CLI runtime would: one write on an O_APPEND descriptor opened for this turn. */
  respond(index: number, json: string): void {
    const fd = openAppendFd(this.logFile);
    try {
      appendLine(fd, encodeResponseLine(compactJson(json), index));
    } finally {
      closeAppendFd(fd);
    }
  }

  /** Resolves with the payload of request `index` once its line is in the log. */
  async request(index: number, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines().find((l) => l.kind === 'request' && l.index === index);
      if (line) return line.payload;
      if (Date.now() > deadline) throw new Error(`request ${index} did not reach the log within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** POSTs a JSON text to the chat route. */
  chat(body: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, ...init });
  }

  /** Reads one sample from /metrics (undefined when absent). */
  async metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  async close(): Promise<void> {
    await this.server.close('test finished');
    removeDir(this.dir);
  }
}

/** Starts a quiet service on 127.0.0.1 with a free port and a fresh data dir. */
export async function startTestService(config: ServiceConfigInput = {}, dir = makeTempDir('svc')): Promise<TestService> {
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: dir, logLevel: 'silent', ...config });
  return new TestService(server, dir);
}
