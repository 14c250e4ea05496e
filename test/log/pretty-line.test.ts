import assert from 'node:assert/strict';
import { formatLogLine } from '../../src/log/pretty-line.js';

describe('log: lines for a terminal', () => {
  it('prints the ISO time, the level name, the message and the fields', () => {
    const line = formatLogLine('{"level":30,"time":1795685867305,"pid":7,"index":1,"note":"two words","msg":"request appended"}\n');
    assert.equal(line, '2026-11-26T09:37:47.305Z INFO  request appended index=1 note="two words"\n');
  });

  it('prints an error stack indented under its line', () => {
    const line = formatLogLine(JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }));
    assert.equal(line, '1970-01-01T00:00:00.000Z ERROR failed\n    Error: boom\n        at x\n');
  });

  it('passes a line that is not JSON through', () => {
    assert.equal(formatLogLine('plain text\n'), 'plain text\n');
  });
});
