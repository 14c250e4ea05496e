/** The marker strings of the log line protocol (SPEC section 3), byte-compatible with the reference. */
export const REQUEST_START = 'LLM_REQUEST_START';
export const REQUEST_END = 'LLM_REQUEST_END';
export const RESPONSE_START = 'LLM_RESPONSE_START';
export const RESPONSE_END = 'LLM_RESPONSE_END';
export const SESSION_END = 'SESSION_END';

/** The log file's name inside the data dir. */
export const LOG_FILE_NAME = 'LLMService.log';
/** At start the previous log is kept beside the new one under its name plus this suffix. */
export const PREVIOUS_LOG_SUFFIX = '.prev';
export const TRAJECTORY_FILE_NAME = 'LLMTraj.jsonl';
