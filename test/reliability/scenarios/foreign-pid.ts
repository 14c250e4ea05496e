/**
 * Issue 14, break 3: the pid file names a process that is not ours. Before the fix any process
 * whose command line contained "rock" (/opt/rocketmq/bin/mqbroker) was taken for the service:
 * `stop` sent it SIGTERM, then SIGKILL after 10 s; `start` refused; `status` said running. Here
 * such processes trap every catchable signal into a file: `status`, `stop`, `start` and `stop`
 * again run against each of them, with and without a forged service.json, and none may be
 * signalled, while our own service is started and stopped as usual.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, rock, type CliPlace } from '../support/cli.js';
import { Findings, type ScenarioFigures } from '../support/figures.js';
import { startTicks } from '../support/proc.js';
import { percentile, sleep, tempDir } from '../support/project.js';

export interface ForeignPidParams {
  /** Rounds over every foreign process and pid-file layout. */
  rounds: number;
}

interface Foreign {
  name: string;
  child: ChildProcess;
  /** Where its signal traps write. */
  trapFile: string;
  /**
   * Its command is our service's: a service.json naming it with its real start time would be
   * the record of a service (only its start time then tells it apart), so that layout is not tried.
   */
  ourCommand: boolean;
}

/** A RocketMQ broker, played by a shell script under opt/rocketmq/bin that logs the signals it gets. */
function broker(dir: string): Foreign {
  const bin = join(dir, 'opt', 'rocketmq', 'bin');
  mkdirSync(bin, { recursive: true });
  const trapFile = join(dir, 'broker.signals');
  const script = join(bin, 'mqbroker');
  writeFileSync(script, `#!/bin/bash\nfor s in TERM INT HUP QUIT USR1 USR2; do trap "echo $s >> '${trapFile}'" $s; done\nwhile :; do sleep 1 & wait $!; done\n`);
  chmodSync(script, 0o755);
  return { name: '/opt/rocketmq/bin/mqbroker', child: spawn(script, [], { stdio: 'ignore' }), trapFile, ourCommand: false };
}

/** A process with our service's very command line, from another checkout: `node …/bin/rock.js model-service start --foreground`. */
function lookAlike(dir: string): Foreign {
  const bin = join(dir, 'other-checkout', 'bin');
  mkdirSync(bin, { recursive: true });
  const trapFile = join(dir, 'look-alike.signals');
  const script = join(bin, 'rock.js');
  writeFileSync(
    script,
    `const { appendFileSync } = require('node:fs');\nfor (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']) process.on(s, () => appendFileSync(${JSON.stringify(trapFile)}, s + '\\n'));\nsetInterval(() => {}, 1000);\n`,
  );
  return { name: 'node …/bin/rock.js model-service start --foreground (another checkout)', child: spawn(process.execPath, [script, 'model-service', 'start', '--foreground'], { stdio: 'ignore' }), trapFile, ourCommand: true };
}

/** The service record a service writes about itself, here about a process that is not one (format of src/cli/service-files.ts). */
function forgeRecord(place: CliPlace, pid: number, startTime: number | null): void {
  const record = { pid, startTime, startToken: 'forged', host: '127.0.0.1', port: 1, logFile: join(place.dataDir, 'LLMService.log'), dataDir: place.dataDir, cwd: place.cwd, version: '0.0.0' };
  writeFileSync(join(place.cwd, 'data', 'cli', 'model', 'service.json'), JSON.stringify(record) + '\n');
}

/** Runs the scenario; returns its figures (lost = foreign processes signalled or killed). */
export async function foreignPid(params: ForeignPidParams): Promise<ScenarioFigures> {
  const started = performance.now();
  const findings = new Findings();
  const dir = tempDir('foreign-pid');
  const place: CliPlace = { cwd: dir.path, dataDir: join(dir.path, 'data') };
  const pidFile = join(dir.path, 'data', 'cli', 'model', 'pid.txt');
  const foreigners = [broker(dir.path), lookAlike(dir.path)];
  const times: Record<'status' | 'stop' | 'start', number[]> = { status: [], stop: [], start: [] };
  let cases = 0;
  try {
    await sleep(300);
    for (const f of foreigners) findings.check(f.child.exitCode === null && /rock/.test(readFileSync(`/proc/${f.child.pid}/cmdline`, 'utf8')), `${f.name} did not start`);
    for (let round = 0; round < params.rounds; round++) {
      for (const f of foreigners) {
        const pid = f.child.pid!;
        const layouts: [string, () => void][] = [
          ['pid.txt alone (the reference layout)', () => rmSync(join(dirOf(pidFile), 'service.json'), { force: true })],
          // A record left by an earlier service whose pid was reused.
          ['pid.txt and a stale service.json (pid reused)', () => forgeRecord(place, pid, (startTicks(pid) ?? 0) - 1)],
        ];
        // A record with the process's real start time: only its command tells it apart.
        if (!f.ourCommand) layouts.push(['pid.txt and a service.json with its real start time', () => forgeRecord(place, pid, startTicks(pid) ?? null)]);
        for (const [layout, prepare] of layouts) {
          cases++;
          const what = `${f.name}, ${layout}`;
          mkdirSync(dirOf(pidFile), { recursive: true });
          writeFileSync(pidFile, `${pid}\n`);
          prepare();
          const status = await rock(place, ['status', '--json']);
          times.status.push(status.ms);
          findings.check(/"status":\s*"not running"/.test(status.stdout), `${what}: status said ${status.stdout.slice(0, 120)} ${status.stderr.slice(0, 120)}`);
          const stop = await rock(place, ['stop'], 30_000);
          times.stop.push(stop.ms);
          findings.check(stop.code === 0 && /not running/.test(stop.stdout), `${what}: stop exited ${stop.code}: ${stop.stdout}${stop.stderr}`);
          writeFileSync(pidFile, `${pid}\n`);
          prepare();
          const port = await freePort();
          const start = await rock(place, ['start', '--host', '127.0.0.1', '--port', String(port)], 40_000);
          times.start.push(start.ms);
          if (findings.check(start.code === 0, `${what}: start exited ${start.code}: ${start.stderr.trim().slice(0, 200)}`)) {
            const ours = Number(readFileSync(pidFile, 'utf8'));
            findings.check(ours !== pid, `${what}: start left the pid file naming the foreign process`);
            const stopOurs = await rock(place, ['stop'], 30_000);
            findings.check(stopOurs.code === 0 && /stopped/.test(stopOurs.stdout), `${what}: stopping our own service said ${stopOurs.code} ${stopOurs.stdout}${stopOurs.stderr}`);
          }
          findings.check(f.child.exitCode === null && f.child.signalCode === null, `${what}: the foreign process died (${f.child.exitCode ?? f.child.signalCode})`);
        }
      }
    }
    let signalled = 0;
    for (const f of foreigners) {
      const got = existsSync(f.trapFile) ? readFileSync(f.trapFile, 'utf8').trim().split('\n') : [];
      const killed = f.child.exitCode !== null || f.child.signalCode !== null;
      if (got.length > 0 || killed) signalled++;
      findings.check(got.length === 0, `${f.name} received ${got.join(', ')}`);
      findings.check(!killed, `${f.name} was killed (${f.child.signalCode ?? f.child.exitCode})`);
    }
    const range = (ms: number[]): string => `p50 ${percentile(ms, 50).toFixed(0)} / max ${Math.max(...ms).toFixed(0)} ms`;
    return {
      scenario: 'Foreign process in the pid file',
      load: `${cases} cases: status, stop, start and stop against a pid file naming a process that is not ours`,
      faults: `${foreigners.map((f) => f.name).join('; ')}; each with pid.txt alone and with a stale service.json (pid reused), the broker also with a service.json holding its real start time`,
      inputs: 'the rock model-service CLI',
      lost: signalled,
      measured: {
        'foreign processes signalled': `${signalled} of ${foreigners.length}`,
        status: range(times.status),
        stop: range(times.stop),
        start: range(times.start),
      },
      violations: findings.violations,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (!foreigners.some((f) => f.child.pid === pid)) await rock(place, ['stop'], 30_000);
    }
    for (const f of foreigners) f.child.kill('SIGKILL');
    dir.cleanup();
  }
}

const dirOf = (path: string): string => path.slice(0, path.lastIndexOf('/'));
