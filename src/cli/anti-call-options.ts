/**
 * The flags of `anti-call-llm`, in one list for its two parsers: node's parseArgs on the quick
 * path (main.ts), and commander (program.ts), which owns help and usage errors. Plain data: the
 * quick path loads no parser library.
 */

/** The anti-call flags as given (strings, checked by the command). */
export interface AntiCallOptions {
  index: string;
  response?: string;
  responseFile?: string;
  timeout?: string;
}

export interface AntiCallFlag {
  /** The flag without its dashes. */
  readonly name: string;
  /** Where its value goes. */
  readonly key: keyof AntiCallOptions;
  /** Its value in help, for example `<n>`. */
  readonly value: string;
  readonly required: boolean;
  readonly description: string;
}

export const ANTI_CALL_FLAGS: readonly AntiCallFlag[] = [
  { name: 'index', key: 'index', value: '<n>', required: true, description: 'index of the previous call; 0 to wait for the first request' },
  { name: 'response', key: 'response', value: '<json>', required: false, description: 'the response to call N (required when N > 0)' },
  {
    name: 'response-file',
    key: 'responseFile',
    value: '<file>',
    required: false,
    description: 'read the response from this file or pipe (a regular file is deleted once the response is in the log)',
  },
  { name: 'timeout', key: 'timeout', value: '<seconds>', required: false, description: 'give up after this long (exit 3); default: wait without limit' },
];
