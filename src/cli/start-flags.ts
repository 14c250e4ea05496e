/**
 * The flags of `rock model-service start`, in one list: commander builds the command's help and
 * usage from it, and the quick reading of `start --foreground` (the service process itself, which
 * `start` launches in the background) takes the same flags without loading commander.
 */
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PROXY_REQUEST_TIMEOUT_MS, DEFAULT_RETRYABLE_STATUS_CODES } from '../config/defaults.js';

/** The start flags as given (strings, checked by the command). */
export interface StartOptions {
  type?: string;
  configFile?: string;
  host?: string;
  port?: string;
  proxyBaseUrl?: string;
  retryableStatusCodes?: string;
  requestTimeout?: string;
  recordingFile?: string;
  replayFile?: string;
  agentApi?: string;
  model?: string;
  maxTokensCap?: string;
  livePage?: boolean;
  foreground?: boolean;
}

export interface StartFlag {
  /** The flag without its dashes. */
  readonly name: string;
  /** Where its value goes. */
  readonly key: keyof StartOptions;
  /** Its value in help, for example `<port>`; none for a switch. */
  readonly value?: string;
  readonly description: string;
}

export const START_FLAGS: readonly StartFlag[] = [
  { name: 'type', key: 'type', value: '<type>', description: 'local or proxy (default local)' },
  { name: 'config-file', key: 'configFile', value: '<file>', description: 'YAML config file (snake_case keys); flags override it' },
  { name: 'host', key: 'host', value: '<host>', description: `address to listen on (default ${DEFAULT_HOST})` },
  { name: 'port', key: 'port', value: '<port>', description: `port to listen on (default ${DEFAULT_PORT})` },
  { name: 'proxy-base-url', key: 'proxyBaseUrl', value: '<url>', description: 'proxy mode: upstream base URL' },
  {
    name: 'retryable-status-codes',
    key: 'retryableStatusCodes',
    value: '<codes>',
    description: `proxy mode: comma-separated statuses to retry (default ${DEFAULT_RETRYABLE_STATUS_CODES.join(',')})`,
  },
  {
    name: 'request-timeout',
    key: 'requestTimeout',
    value: '<seconds>',
    description: `local mode: how long a request waits for its response (default: no limit); proxy mode: upstream timeout (default ${DEFAULT_PROXY_REQUEST_TIMEOUT_MS / 1000} s)`,
  },
  { name: 'recording-file', key: 'recordingFile', value: '<file>', description: 'proxy mode: JSONL file recording every call' },
  { name: 'replay-file', key: 'replayFile', value: '<file>', description: 'proxy mode: answer from this recording instead of an upstream' },
  {
    name: 'agent-api',
    key: 'agentApi',
    value: '<mode>',
    description: "local mode: translated (default: the runtime sees and answers Chat Completions) or native (the agent's own API)",
  },
  { name: 'model', key: 'model', value: '<names>', description: 'comma-separated models GET /v1/models lists besides those the agents name' },
  { name: 'max-tokens-cap', key: 'maxTokensCap', value: '<n>', description: 'cap max_tokens of translated Messages and Responses requests (default: no cap)' },
  { name: 'live-page', key: 'livePage', description: 'local mode: serve the live session page at GET / (off by default: conversations are private)' },
  { name: 'foreground', key: 'foreground', description: 'run in this process instead of in the background' },
];

/** The flags of `start` as given (after `model-service start`), to hand to the background copy, which adds --foreground itself. */
export function startArgs(args: readonly string[]): string[] {
  return args.slice(2).filter((arg) => arg !== '--foreground');
}
