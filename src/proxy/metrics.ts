import type * as PromClient from 'prom-client';
import Counter from 'prom-client/lib/counter.js';
import Histogram from 'prom-client/lib/histogram.js';
import { isJsonObject } from '../wire/json-object.js';

// The two classes from their own files, as server/metrics.ts imports them: prom-client's entry
// would load its push gateway and cluster aggregator into proxy mode too.

/** The proxy's Prometheus metrics, registered on the service's registry. */
export interface ProxyMetrics {
  /** One observation per upstream attempt; `outcome` is the HTTP status, `timeout`, `connection_error` or `too_large`. */
  upstreamSeconds: PromClient.Histogram<'outcome' | 'model'>;
  /** One per upstream attempt, by the same outcome. */
  upstreamAttempts: PromClient.Counter<'outcome' | 'model'>;
  /** Attempts repeated, by the outcome that caused them. */
  retries: PromClient.Counter<'reason' | 'model'>;
  /** Forwarded calls by the status their client got (499: it left first). */
  calls: PromClient.Counter<'status' | 'model'>;
  /** Tokens the upstream reported in `usage`, by kind: prompt, completion, total. */
  tokens: PromClient.Counter<'kind' | 'model'>;
  /** Calls answered from the replay file, and calls refused because it was exhausted. */
  replayed: PromClient.Counter<'result'>;
  /** The `model` label of a call. */
  models: ModelLabels;
}

/** @returns the proxy metrics, registered on `registry`; `maxModels` bounds the distinct `model` labels. */
export function createProxyMetrics(registry: PromClient.Registry, maxModels = DEFAULT_MAX_MODEL_LABELS): ProxyMetrics {
  const registers = [registry];
  const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[]): PromClient.Counter<Label> => new Counter({ name, help, labelNames, registers });
  return {
    upstreamSeconds: new Histogram({
      name: 'rock_model_service_proxy_upstream_seconds',
      help: 'Time from sending an attempt upstream to its last byte, by outcome and model',
      labelNames: ['outcome', 'model'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    upstreamAttempts: counter(
      'rock_model_service_proxy_upstream_attempts_total',
      'Upstream attempts by outcome (HTTP status, timeout, connection_error or too_large) and model',
      ['outcome', 'model'],
    ),
    retries: counter('rock_model_service_proxy_retries_total', 'Upstream attempts repeated, by the outcome that caused the retry, and model', ['reason', 'model']),
    calls: counter('rock_model_service_proxy_calls_total', 'Forwarded calls by the HTTP status their client got (499: the client left first) and model', ['status', 'model']),
    tokens: counter(
      'rock_model_service_proxy_tokens_total',
      'Tokens the upstream reported in usage (plain and streamed answers), by kind (prompt, completion, total) and model',
      ['kind', 'model'],
    ),
    replayed: counter('rock_model_service_proxy_replayed_total', 'Calls answered from the replay file (served) or refused because it was exhausted', ['result']),
    models: new ModelLabels(maxModels),
  };
}

/** Distinct `model` label values before the rest become `other`. */
export const DEFAULT_MAX_MODEL_LABELS = 64;
/** A longer name is no model's (a client can send anything): it becomes `other`. */
const MAX_MODEL_LABEL_CHARS = 200;
export const OTHER_MODELS = 'other';

/**
 * The `model` label of a call: the model its client asked for. Clients choose these names, so
 * each one is a new time series in every metric it labels: the first `max` distinct names keep
 * their own label, every later one (and any name over 200 characters) is counted as `other`.
 * A call that names no model is labelled with the empty string.
 */
export class ModelLabels {
  private readonly seen = new Set<string>();

  constructor(readonly max: number) {}

  /** @returns the label for `model`. */
  label(model: string | undefined): string {
    if (model === undefined) return '';
    if (this.seen.has(model)) return model;
    if (this.seen.size >= this.max || model.length > MAX_MODEL_LABEL_CHARS) return OTHER_MODELS;
    this.seen.add(model);
    return model;
  }
}

const TOKEN_KINDS = ['prompt', 'completion', 'total'] as const;

/**
 * Adds the token counts of an answer's `usage`, in any of the three APIs' shapes (ignoring what
 * is not a count: a counter cannot go down). Messages counts cache reads and writes apart from
 * `input_tokens`: they are prompt tokens too.
 */
export function countTokens(tokens: ProxyMetrics['tokens'], model: string, usage: unknown): void {
  if (!isJsonObject(usage)) return;
  const n = (key: string): number => (isCount(usage[key]) ? (usage[key] as number) : 0);
  let counts: Record<(typeof TOKEN_KINDS)[number], unknown>;
  if ('prompt_tokens' in usage || 'completion_tokens' in usage) counts = { prompt: usage.prompt_tokens, completion: usage.completion_tokens, total: usage.total_tokens };
  else if ('total_tokens' in usage) counts = { prompt: usage.input_tokens, completion: usage.output_tokens, total: usage.total_tokens };
  else {
    const prompt = n('input_tokens') + n('cache_read_input_tokens') + n('cache_creation_input_tokens');
    counts = { prompt, completion: usage.output_tokens, total: prompt + n('output_tokens') };
  }
  for (const kind of TOKEN_KINDS) if (isCount(counts[kind])) tokens.inc({ kind, model }, counts[kind]);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}
