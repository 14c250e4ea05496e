/** pino's JSON line as a line for a person: `2026-11-26T09:30:00.123Z INFO  message key=value …`. */

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

/** Returns the human-readable form of one pino JSON line (the line itself when it is not JSON). */
export function formatLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString() : '';
  const level = (LEVEL_NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !OMITTED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  const err = record.err as { message?: unknown; stack?: unknown } | undefined;
  const errText = err === undefined ? '' : `\n    ${String(err.stack ?? err.message ?? JSON.stringify(err)).replace(/\n/g, '\n    ')}`;
  return `${time} ${level} ${String(record.msg ?? '')}${fields.length > 0 ? ' ' + fields.join(' ') : ''}${errText}\n`;
}
