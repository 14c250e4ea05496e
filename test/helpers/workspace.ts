/**
 * A directory that is both the working directory (pid file) and the data dir of one service
 * driven through the real CLI.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeServiceFiles } from '../../src/cli/service-files.js';
import { processStartTime } from '../../src/process/process-state.js';
import { VERSION } from '../../src/version.js';
import { runCli, type CliResult } from './cli.js';
import { makeTempDir, removeDir } from './temp-dir.js';

export class Workspace {
  readonly dir = makeTempDir('cli');
  readonly pidFile = join(this.dir, 'data', 'cli', 'model', 'pid.txt');
  readonly recordFile = join(this.dir, 'data', 'cli', 'model', 'service.json');
  readonly log = join(this.dir, 'LLMService.log');
  constructor(readonly env: NodeJS.ProcessEnv = {}) {}

  /** Runs `rock model-service ...args` here, with this directory as the data dir unless `env` says otherwise. */
  rock(args: string[], timeoutMs?: number, cwd = this.dir): Promise<CliResult> {
    return runCli(['model-service', ...args], { cwd, env: { ROCK_MODEL_SERVICE_DATA_DIR: this.dir, ...this.env }, timeoutMs });
  }

  /** Writes the pid file and the record that a service `pid` writes about itself here (its real start time). */
  writeRecordFor(pid: number): void {
    writeServiceFiles(this.pidFile, {
      pid,
      startTime: processStartTime(pid) ?? null,
      startToken: 'written by a test',
      host: '127.0.0.1',
      port: 1,
      logFile: this.log,
      dataDir: this.dir,
      cwd: this.dir,
      version: VERSION,
    });
  }

  async cleanUp(): Promise<void> {
    if (existsSync(this.pidFile)) await this.rock(['stop']);
    removeDir(this.dir);
  }
}

/** Parses `status` output, one `key: value` per line. */
export function parseStatus(text: string): Record<string, string> {
  return Object.fromEntries(text.trimEnd().split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
}
