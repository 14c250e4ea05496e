/**
 * Starts a service (docs/http.md, docs/proxy.md, docs/library.md). Local mode loads only what it needs; proxy
 * mode's code (and YAML, zod) is imported only when the config asks for it.
 */
import { mkdirSync } from 'node:fs';
import { resolveServiceConfig, type ServiceConfigInput } from '../config/resolve.js';
import type { ServiceConfig } from '../config/types.js';
import { LogFollower, ResponseRouter } from '../follower/index.js';
import { LogUnavailableError } from '../errors.js';
import { lockDir } from '../process/dir-lock.js';
import { START_TOKEN_ENV } from '../process/service-health.js';
import { HttpService } from '../http/http-service.js';
import { sendJson } from '../http/reply.js';
import { checkLogLevel, createLogger, type Logger } from '../log/logger.js';
import { getScanEngine } from '../scanner/load.js';
import type { AgentApis } from '../wire/agent-apis.js';
import { F_INDEX, F_KIND, RECORD_STRIDE, RecordKind } from '../scanner/types.js';
import { VERSION } from '../version.js';
import { AgentWatcher } from './agent-watch.js';
import type { WaitingCalls } from './local-calls.js';
import { mountLivePage } from './live-page.js';
import { registerLocalRoutes } from './local-routes.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import { SessionLog } from './session-log.js';
import { TrajectoryWriter } from './trajectory.js';
import { Turns } from './turns.js';

/** A started service. */
export interface RunningServer {
  /** Where clients reach it, for example `http://127.0.0.1:8080` (a wildcard host is given as loopback). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly config: ServiceConfig;
  /** The log scanner in use: `native` or `ts`. */
  readonly scannerKind: 'native' | 'ts';
  /**
   * Stops accepting, answers waiting calls with an error (503), writes pending
   * trajectory records, and releases the log. Idempotent.
   */
  close(reason?: string): Promise<void>;
}

const CLOSE_GRACE_MS = 5000;

interface ModeHandle {
  /** Called first on close: refuse and fail whatever waits. */
  stop(): void;
  /** Called after the HTTP server closed. */
  release(): Promise<void>;
}

/**
 * Starts the service and resolves once it listens.
 * @throws ConfigError for a contradictory config or an unknown log level; the listen error
 *   (EADDRINUSE…); the file system's error when the data dir or log cannot be created.
 */
export async function startServer(input: ServiceConfigInput | ServiceConfig = {}): Promise<RunningServer> {
  const config = resolveServiceConfig(input);
  const log = createLogger(checkLogLevel(config.logLevel, 'the log level (log_level, ROCK_MS_LOG_LEVEL)'), config.serviceLogFile);
  const scannerKind = getScanEngine().kind;
  let http: HttpService | undefined;
  let handle: ModeHandle | undefined;
  try {
    const metrics = config.type === 'local' ? undefined : createServiceMetrics('proxy', scannerKind, null);
    if (config.type === 'local') {
      const local = await startLocal(config, scannerKind, log);
      http = local.http;
      handle = local.handle;
    } else {
      http = createHttp(config, log, metrics!);
      handle = await startProxy(config, http, metrics!, log);
    }
    await http.listen(config.host, config.port);
  } catch (err) {
    handle?.stop();
    await http?.close(0);
    await handle?.release();
    throw err;
  }
  const port = (http.server.address() as { port: number }).port;
  const host = config.host;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;
  log.info({ mode: config.type, url, scanner: scannerKind, log: config.logFile, version: VERSION }, 'model service started');
  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    config,
    scannerKind,
    close(reason) {
      closing ??= (async () => {
        log.info({ reason: reason ?? 'close() called' }, 'model service stopping');
        http.markClosing();
        handle.stop();
        await http.close(CLOSE_GRACE_MS);
        await handle.release();
      })();
      return closing;
    },
  };
}

/** The HTTP layer with the routes both modes share: /health and /metrics. */
function createHttp(config: ServiceConfig, log: Logger, metrics: ServiceMetrics): HttpService {
  const http = new HttpService({
    log,
    bodyLimitBytes: config.bodyLimitBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    bodyBudgetBytes: config.bodyBudgetBytes,
    observe: (route, status, seconds) => metrics.observeRequest(route, status, seconds),
  });
  // `start` knows the answer came from the service it launched by the token it handed it.
  const token = process.env[START_TOKEN_ENV];
  const health = JSON.stringify({ status: 'healthy', version: VERSION, pid: process.pid, mode: config.type, ...(token ? { start_token: token } : {}) });
  http.route('GET', '/health', (ctx) => sendJson(ctx.res, 200, health));
  http.route('GET', '/metrics', async (ctx) => {
    const text = await metrics.scrape();
    ctx.res.writeHead(200, { 'content-type': metrics.registry.contentType });
    ctx.res.end(text);
  });
  return http;
}

async function startLocal(config: ServiceConfig, scannerKind: 'native' | 'ts', log: Logger): Promise<{ http: HttpService; handle: ModeHandle }> {
  // One data dir, one service: two services numbering requests into one log would answer each
  // other's agents. Held for the service's life; the kernel frees it even after SIGKILL.
  mkdirSync(config.dataDir, { recursive: true });
  const dirLock = await lockDir(config.dataDir, 'the data dir');
  let sessionLog: SessionLog;
  try {
    sessionLog = SessionLog.start(config.dataDir, config.logFile);
  } catch (err) {
    await dirLock.release();
    throw err;
  }
  const follower = new LogFollower(config.logFile, { pollIntervalMs: config.pollIntervalMs });
  const router = new ResponseRouter(follower);
  const turns = new Turns(router, config.maxOrphanedTurns);
  const calls: WaitingCalls = { waiting: new Set(), abandoned: 0 };
  let latestResponse = 0;
  let endLogged = false;
  follower.onRecords((batch) => {
    const r = batch.records;
    for (let i = 0; i < batch.count; i++) {
      const b = i * RECORD_STRIDE;
      if (r[b + F_KIND] === RecordKind.Response && r[b + F_INDEX]! > latestResponse) latestResponse = r[b + F_INDEX]!;
      // A SESSION_END this service did not write (the runtime's, another writer's) is a turn event too.
      if (r[b + F_KIND] === RecordKind.SessionEnd && !endLogged && !sessionLog.ended) {
        endLogged = true;
        log.info({ log: config.logFile }, 'SESSION_END is in the log (not written by this service): the session has ended');
      }
    }
  });
  const metrics = createServiceMetrics('local', scannerKind, {
    pendingCalls: () => calls.waiting.size,
    oldestWaitSeconds: () => {
      let oldest = Infinity;
      for (const call of calls.waiting) oldest = Math.min(oldest, call.since);
      return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
    },
    abandonedCalls: () => calls.abandoned,
    orphanedTurns: () => turns.orphanCount,
    latestRequestIndex: () => sessionLog.nextIndex - 1,
    latestResponseIndex: () => latestResponse,
    sessionEnded: () => router.sessionEnded,
    logBytesScanned: () => follower.bytesScanned,
  });
  const http = createHttp(config, log, metrics);
  follower.onError((err) => log.warn({ err }, 'scanning the log failed; retrying on the next change'));
  follower.onAvailability((unavailable) => {
    if (unavailable === undefined) {
      log.info({ log: config.logFile }, 'the log is usable again; serving agents');
      return;
    }
    log.warn({ log: config.logFile, reason: unavailable.reason }, 'the log is gone or cannot be opened; agents are answered 503 until it is usable again');
    sessionLog.markLost();
    // Their request lines went with the file: the runtime will never answer them. A retry is a new turn once the log is back.
    router.failAll(new LogUnavailableError(`the log ${config.logFile} is ${unavailable.reason}, and this call's request line with it; send the request again`));
  });
  follower.onReset((reason) => {
    log.warn({ reason }, 'the log was truncated or replaced; following it from its start, pending calls keep waiting');
    if (reason === 'replaced') sessionLog.reopen();
  });
  const trajectory = new TrajectoryWriter(config.trajectoryFile, config.trajectoryAppend, (err) =>
    log.error({ err }, 'writing the trajectory file failed'),
  );
  const agents = new AgentWatcher(config.watchIntervalMs, (pid) => {
    try {
      if (sessionLog.endSession()) log.info({ agentPid: pid }, 'the watched agent is gone: SESSION_END written, the session has ended');
    } catch (err) {
      log.error({ err }, 'writing SESSION_END failed');
    }
    router.endSession();
  });
  const closeLivePage = config.livePage ? await mountLivePage(http, follower, config.logFile) : undefined;
  registerLocalRoutes(http, {
    apis: lazyAgentApis(config),
    configuredModels: config.models,
    mode: config.agentApiMode,
    sessionLog,
    router,
    turns,
    trajectory,
    agents,
    log,
    requestTimeoutMs: config.requestTimeoutMs,
    heartbeatMs: config.heartbeatIntervalMs,
    calls,
    models: new Set(),
    isClosing: () => http.closing,
  });
  return {
    http,
    handle: {
      stop() {
        agents.close();
        router.close();
        closeLivePage?.();
      },
      async release() {
        trajectory.close();
        follower.close();
        sessionLog.close();
        await dirLock.release();
      },
    },
  };
}

/**
 * The Messages and Responses adapters, loaded at their first call: a service whose agents speak
 * Chat Completions never compiles them (about a megabyte of a service's resident memory).
 */
function lazyAgentApis(config: ServiceConfig): () => Promise<AgentApis> {
  let loading: Promise<AgentApis> | undefined;
  return () =>
    (loading ??= Promise.all([import('../wire/agent-apis.js'), import('../wire/responses-store.js')]).then(([{ createAgentApis }, { ResponsesStore }]) =>
      createAgentApis({ responsesStore: new ResponsesStore(config.responsesStore), maxTokensCap: config.maxTokensCap }),
    ));
}

async function startProxy(config: ServiceConfig, http: HttpService, metrics: ServiceMetrics, log: Logger): Promise<ModeHandle> {
  mkdirSync(config.dataDir, { recursive: true });
  const { registerProxyRoutes } = await import('../proxy/index.js');
  const proxy = await registerProxyRoutes(http, config, { registry: metrics.registry, log });
  return {
    stop() {
      // Ends the calls under way (502, recorded) now: a stalled upstream call would otherwise
      // hold the HTTP server's close until the grace period cuts every connection. release()
      // awaits the same promise (close() is memoized) and so is where its error surfaces.
      proxy.close().catch(() => {});
    },
    release: () => proxy.close(),
  };
}
