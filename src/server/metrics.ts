/**
 * The service's Prometheus metrics (SPEC section 4). One registry per service, not
 * prom-client's global one, so that several services in one process (tests, benches) never
 * clash; proxy mode registers its own metrics on the same registry.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

// The four classes are loaded from their own files: prom-client's entry also loads the
// push gateway (http, https), the cluster aggregator and the default collectors, which cost
// about 50 ms and 10 MB per service at start (measured here), for nothing we use.
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;

/** Live values read at scrape time, so the hot path updates nothing but its own counters. */
export interface MetricSources {
  pendingWaiters(): number;
  logBytesScanned(): number;
}

export interface ServiceMetrics {
  readonly registry: PromClient.Registry;
  /** Counts one finished HTTP request and observes its latency. */
  observeRequest(route: string, status: number, seconds: number): void;
}

/** Returns the metrics of one service; `sources` may be null in proxy mode (no log). */
export function createServiceMetrics(mode: 'local' | 'proxy', scannerKind: string, sources: MetricSources | null): ServiceMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'rock_model_service_requests_total',
    help: 'HTTP requests answered, by mode, route and status code',
    labelNames: ['mode', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'rock_model_service_request_duration_seconds',
    help: 'Time from request to response, by mode, route and status code',
    labelNames: ['mode', 'route', 'status'] as const,
    // A local turn is milliseconds when the runtime is fast, minutes when it generates.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  new Gauge({
    name: 'rock_model_service_scanner_info',
    help: 'The log scanner in use (1 for the kind that is loaded)',
    labelNames: ['kind'] as const,
    registers: [registry],
  }).set({ kind: scannerKind }, 1);
  if (sources) {
    new Gauge({
      name: 'rock_model_service_pending_waiters',
      help: 'Chat requests waiting for their response line',
      registers: [registry],
      collect() {
        this.set(sources.pendingWaiters());
      },
    });
    new Counter({
      name: 'rock_model_service_log_bytes_scanned_total',
      help: 'Log bytes the follower has scanned',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(sources.logBytesScanned());
      },
    });
  }
  return {
    registry,
    observeRequest(route, status, seconds) {
      const labels = { mode, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
  };
}
