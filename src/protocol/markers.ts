/** The marker strings of the log line protocol, byte-compatible with the reference. */
export const REQUEST_START = 'LLM_REQUEST_START';
export const REQUEST_END = 'LLM_REQUEST_END';
export const RESPONSE_START = 'LLM_RESPONSE_START';
export const RESPONSE_END = 'LLM_RESPONSE_END';
export const SESSION_END = 'SESSION_END';

/** The same markers as bytes (ASCII, so one byte per character), for comparing against the log's bytes. */
export const REQUEST_START_BYTES = Buffer.from(REQUEST_START, 'latin1');
export const REQUEST_END_BYTES = Buffer.from(REQUEST_END, 'latin1');
export const RESPONSE_START_BYTES = Buffer.from(RESPONSE_START, 'latin1');
export const RESPONSE_END_BYTES = Buffer.from(RESPONSE_END, 'latin1');
export const SESSION_END_BYTES = Buffer.from(SESSION_END, 'latin1');

/** The log file's name inside the data dir. */
export const LOG_FILE_NAME = 'LLMService.log';
/** At start the previous log is kept beside the new one under its name plus this suffix. */
export const PREVIOUS_LOG_SUFFIX = '.prev';
export const TRAJECTORY_FILE_NAME = 'LLMTraj.jsonl';
