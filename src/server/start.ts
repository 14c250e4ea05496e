/**
 * Starts a service (SPEC sections 4, 7 and 9). Local mode loads only what it needs; proxy
 * mode's code (and YAML, zod) is imported only when the config asks for it.
 */
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { resolveServiceConfig, type ServiceConfigInput } from '../config/resolve.js';
import type { ServiceConfig } from '../config/types.js';
import { LogFollower, ResponseRouter } from '../follower/index.js';
import { getScanEngine } from '../scanner/load.js';
import { AgentWatcher } from './agent-watch.js';
import { createApp } from './app.js';
import { registerLocalRoutes } from './local-routes.js';
import { createServiceMetrics } from './metrics.js';
import { SessionLog } from './session-log.js';
import { TrajectoryWriter } from './trajectory.js';

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
   * Stops accepting, answers waiting chat calls with an error (503), writes pending
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
 * @throws ConfigError for a contradictory config; the listen error (EADDRINUSE…); the file
 *   system's error when the data dir or log cannot be created.
 */
export async function startServer(input: ServiceConfigInput | ServiceConfig = {}): Promise<RunningServer> {
  const config = resolveServiceConfig(input);
  const scannerKind = getScanEngine().kind;
  let closingFlag = false;
  const isClosing = (): boolean => closingFlag;
  let handle: ModeHandle | undefined;
  let app: FastifyInstance | undefined;
  try {
    if (config.type === 'local') {
      const local = startLocal(config, scannerKind, isClosing);
      app = local.app;
      handle = local.handle;
    } else {
      const proxy = await startProxy(config, scannerKind, isClosing);
      app = proxy.app;
      handle = proxy.handle;
    }
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    handle?.stop();
    await app?.close();
    await handle?.release();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  app.log.info({ mode: config.type, url: `http://${urlHost}:${port}`, scanner: scannerKind, log: config.logFile }, 'model service started');
  let closing: Promise<void> | undefined;
  const running: RunningServer = {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    config,
    scannerKind,
    close(reason) {
      closing ??= (async () => {
        app.log.info({ reason: reason ?? 'close() called' }, 'model service stopping');
        closingFlag = true;
        handle.stop();
        // Answers already under way get a grace period; then every connection is cut.
        const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
        try {
          await app.close();
        } finally {
          clearTimeout(force);
        }
        await handle.release();
      })();
      return closing;
    },
  };
  return running;
}

function startLocal(config: ServiceConfig, scannerKind: 'native' | 'ts', isClosing: () => boolean): { app: FastifyInstance; handle: ModeHandle } {
  const sessionLog = SessionLog.start(config.dataDir, config.logFile);
  const follower = new LogFollower(config.logFile, { pollIntervalMs: config.pollIntervalMs });
  const router = new ResponseRouter(follower);
  const metrics = createServiceMetrics('local', scannerKind, {
    pendingWaiters: () => router.pending,
    logBytesScanned: () => follower.bytesScanned,
  });
  const app = createApp(config, metrics, isClosing);
  const log = app.log;
  follower.onError((err) => log.warn({ err }, 'scanning the log failed; retrying on the next change'));
  follower.onReset((reason) => {
    log.warn({ reason }, 'the log was truncated or replaced; following it from its start, pending calls keep waiting');
    if (reason === 'replaced') sessionLog.reopen();
  });
  const trajectory = new TrajectoryWriter(config.trajectoryFile, config.trajectoryAppend, (err) =>
    log.error({ err }, 'writing the trajectory file failed'),
  );
  const agents = new AgentWatcher(config.watchIntervalMs, (pid) => {
    try {
      if (sessionLog.endSession()) log.info({ pid }, 'watched agent is gone: SESSION_END written');
    } catch (err) {
      log.error({ err }, 'writing SESSION_END failed');
    }
    router.endSession();
  });
  registerLocalRoutes(app, {
    sessionLog,
    router,
    trajectory,
    agents,
    requestTimeoutMs: config.requestTimeoutMs,
    isStopping: isClosing,
  });
  return {
    app,
    handle: {
      stop() {
        agents.close();
        router.close();
      },
      async release() {
        await trajectory.flush();
        follower.close();
        sessionLog.close();
      },
    },
  };
}

async function startProxy(
  config: ServiceConfig,
  scannerKind: 'native' | 'ts',
  isClosing: () => boolean,
): Promise<{ app: FastifyInstance; handle: ModeHandle }> {
  mkdirSync(config.dataDir, { recursive: true });
  const { registerProxyRoutes } = await import('../proxy/index.js');
  const metrics = createServiceMetrics('proxy', scannerKind, null);
  const app = createApp(config, metrics, isClosing);
  const proxy = await registerProxyRoutes(app, config, { registry: metrics.registry, log: app.log });
  return {
    app,
    handle: {
      stop() {
        // Ends the calls under way (502, recorded) now: a stalled upstream call would otherwise
        // hold the HTTP server's close until the grace period cuts every connection. release()
        // awaits the same promise (close() is memoized) and so is where its error surfaces.
        proxy.close().catch(() => {});
      },
      release: () => proxy.close(),
    },
  };
}
