/**
 * The service's Prometheus metrics (docs/http.md, "Metrics"). One registry per service, not
 * prom-client's global one, so that several services in one process (tests, benches) never
 * clash; proxy mode registers its own metrics on the same registry.
 */
import type * as PromClient from 'prom-client';
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import { VERSION } from '../version.js';

// The classes are imported from their own files: prom-client's entry also loads the push
// gateway (http, https) and the cluster aggregator, about 50 ms and 10 MB per service at
// start (measured here), for nothing we use. The process collectors load at the first scrape.
// Imports, not a createRequire: the bundle (scripts/bundle.mjs) carries only what is imported.

/** Live values of a local session, read at scrape time, so that the hot path updates nothing. */
export interface SessionSources {
  /** Calls waiting for their response now. */
  pendingCalls(): number;
  /** Seconds the oldest waiting call has waited, 0 when none waits. */
  oldestWaitSeconds(): number;
  /** Calls whose agent left before the answer. */
  abandonedCalls(): number;
  /** Orphaned turns kept for a retry. */
  orphanedTurns(): number;
  latestRequestIndex(): number;
  latestResponseIndex(): number;
  sessionEnded(): boolean;
  logBytesScanned(): number;
}

export interface ServiceMetrics {
  readonly registry: PromClient.Registry;
  /** Counts one finished HTTP request and observes its latency. */
  observeRequest(route: string, status: number, seconds: number): void;
  /** The Prometheus text of every metric. */
  scrape(): Promise<string>;
}

/** Returns the metrics of one service; `session` is null in proxy mode (no log). */
export function createServiceMetrics(mode: 'local' | 'proxy', scannerKind: string, session: SessionSources | null): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: 'rock_model_service_requests_total',
    help: 'HTTP requests answered, by mode, route and status code (499: the client left first)',
    labelNames: ['mode', 'route', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'rock_model_service_request_duration_seconds',
    help: 'Time from request to response, by mode, route and status code',
    labelNames: ['mode', 'route', 'status'] as const,
    // A local turn is milliseconds when the runtime is fast, minutes when it generates.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  new Gauge({
    name: 'rock_model_service_info',
    help: 'The running service: version, mode and the log scanner in use',
    labelNames: ['version', 'mode', 'scanner'] as const,
    registers,
  }).set({ version: VERSION, mode, scanner: scannerKind }, 1);
  new Gauge({
    name: 'rock_model_service_scanner_info',
    help: 'The log scanner in use (1 for the kind that is loaded)',
    labelNames: ['kind'] as const,
    registers,
  }).set({ kind: scannerKind }, 1);
  if (session) registerSessionMetrics(registry, session);
  let processMetrics = false;
  return {
    registry,
    observeRequest(route, status, seconds) {
      const labels = { mode, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    async scrape() {
      if (!processMetrics) {
        processMetrics = true;
        const { default: collectDefaultMetrics } = await import('prom-client/lib/defaultMetrics.js');
        collectDefaultMetrics({ register: registry });
      }
      return registry.metrics();
    },
  };
}

function registerSessionMetrics(registry: PromClient.Registry, s: SessionSources): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  gauge('rock_model_service_pending_waiters', 'Agent calls waiting for their response line', () => s.pendingCalls());
  gauge('rock_model_service_oldest_wait_seconds', 'How long the oldest waiting agent call has waited (0 when none waits)', () => s.oldestWaitSeconds());
  counter('rock_model_service_abandoned_calls_total', 'Agent calls whose agent closed the connection before the answer', () => s.abandonedCalls());
  gauge('rock_model_service_orphaned_turns', 'Turns whose call ended without an answer, kept for a retry of the same request', () => s.orphanedTurns());
  gauge('rock_model_service_latest_request_index', 'Index of the latest request line this service wrote (0 before the first)', () => s.latestRequestIndex());
  gauge('rock_model_service_latest_response_index', 'Index of the latest response line in the log (0 before the first)', () => s.latestResponseIndex());
  gauge('rock_model_service_session_ended', '1 once SESSION_END is in the log', () => (s.sessionEnded() ? 1 : 0));
  counter('rock_model_service_log_bytes_scanned_total', 'Log bytes the follower has scanned', () => s.logBytesScanned());
}
