import { Counter, Histogram, type Registry } from 'prom-client';

/** The proxy's Prometheus metrics, registered on the service's registry. */
export interface ProxyMetrics {
  /** One observation per upstream attempt; `outcome` is the HTTP status, `timeout` or `connection_error`. */
  upstreamSeconds: Histogram<'outcome'>;
  /** One per upstream attempt, by the same outcome. */
  upstreamAttempts: Counter<'outcome'>;
  /** Attempts repeated, by the outcome that caused them. */
  retries: Counter<'reason'>;
  /** Calls answered from the replay file, and calls refused because it was exhausted. */
  replayed: Counter<'result'>;
}

/** @returns the proxy metrics, registered on `registry`. */
export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  return {
    upstreamSeconds: new Histogram({
      name: 'rock_model_service_proxy_upstream_seconds',
      help: 'Time from sending an attempt upstream to its last byte, by outcome',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    upstreamAttempts: new Counter({
      name: 'rock_model_service_proxy_upstream_attempts_total',
      help: 'Upstream attempts by outcome (HTTP status, timeout or connection_error)',
      labelNames: ['outcome'],
      registers,
    }),
    retries: new Counter({
      name: 'rock_model_service_proxy_retries_total',
      help: 'Upstream attempts repeated, by the outcome that caused the retry',
      labelNames: ['reason'],
      registers,
    }),
    replayed: new Counter({
      name: 'rock_model_service_proxy_replayed_total',
      help: 'Calls answered from the replay file (served) or refused because it was exhausted',
      labelNames: ['result'],
      registers,
    }),
  };
}
