/** An agent API an upstream may speak itself (`chat` is what every upstream is assumed to speak). */
export type UpstreamApi = 'chat' | 'messages' | 'responses';

/** The resolved configuration of one service process: every field set, defaults applied. */
export interface ServiceConfig {
  type: 'local' | 'proxy';
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  dataDir: string;
  /** `<dataDir>/LLMService.log` */
  logFile: string;
  /** `<dataDir>/LLMTraj.jsonl` */
  trajectoryFile: string;
  /** ROCK_MODEL_SERVICE_TRAJ_APPEND_MODE=true: append; otherwise each record overwrites (reference behaviour). */
  trajectoryAppend: boolean;
  bodyLimitBytes: number;
  /** How long a request body may take to arrive whole. */
  bodyTimeoutMs: number;
  /** The bytes all request bodies in flight may hold together. */
  bodyBudgetBytes: number;
  /** Local mode: how often a streamed call that waits gets a heartbeat. */
  heartbeatIntervalMs: number;
  /** Local mode: orphaned turns kept for a retry of the same request. */
  maxOrphanedTurns: number;
  /** Local mode: serve the live session page at `GET /` (off by default: conversations are private). */
  livePage: boolean;
  /** Local mode: `translated` (the runtime speaks Chat Completions whatever the agent speaks) or `native` (the agent's own API). */
  agentApiMode: 'translated' | 'native';
  /** Models `GET /v1/models` lists besides those the session's requests name. */
  models: string[];
  /** Responses kept for `previous_response_id`: at most this many, and this many bytes. */
  responsesStore: { maxResponses: number; maxBytes: number };
  pollIntervalMs: number;
  watchIntervalMs: number;
  /** Local mode: how long a chat call waits for its response (undefined: no limit). Proxy mode: upstream timeout per attempt. */
  requestTimeoutMs: number | undefined;
  proxyBaseUrl: string | undefined;
  proxyRules: Record<string, string>;
  /**
   * The agent APIs each proxy rule's upstream speaks itself (rules written as `{url, apis}`):
   * calls on those routes pass through unchanged instead of being translated to Chat Completions.
   */
  proxyRuleApis: Record<string, UpstreamApi[]>;
  /** The largest `max_tokens` a translated agent call asks the runtime or upstream for (undefined: no cap). */
  maxTokensCap: number | undefined;
  retryableStatusCodes: number[];
  retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number };
  /** Proxy mode: the largest upstream answer (not a stream) held to pass on (response_limit); past it the client gets 502. */
  responseLimitBytes: number;
  /** Proxy mode: the most bytes of a streamed answer aggregated into its record (record_max_bytes). */
  recordMaxBytes: number;
  /** Proxy recording (JSONL); undefined in local mode. */
  recordingFile: string | undefined;
  /** Proxy replay source; when set there is no upstream. */
  replayFile: string | undefined;
  /** Service log destination: `$ROCK_LOGGING_PATH/$ROCK_LOGGING_FILE_NAME` when both are set, else undefined (stderr). */
  serviceLogFile: string | undefined;
  /** pino level. */
  logLevel: string;
}
