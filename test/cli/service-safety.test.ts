import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { collect, requireBuiltCli, spawnCli } from '../helpers/cli.js';
import { parseStatus, Workspace } from '../helpers/workspace.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';
import { freePort } from '../helpers/loopback.js';

/** A process that is not ours but whose command line says "rock": a RocketMQ broker, played by sleep. */
function rocketMqBroker(dir: string): ChildProcess {
  const bin = join(dir, 'opt', 'rocketmq', 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync('/bin/sleep', join(bin, 'mqbroker'));
  return spawn(join(bin, 'mqbroker'), ['300'], { stdio: 'ignore' });
}

/** An HTTP server on `port` that says it is a healthy model service (a leftover from another working dir). */
async function impostor(port: number): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"healthy"}'));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const START_TIMEOUT_MS = 40_000;

describe('rock model-service: which service is ours, and what it may write', function () {
  this.timeout(60_000);
  let ws: Workspace;
  before(requireBuiltCli);
  beforeEach(() => {
    ws = new Workspace();
  });
  afterEach(() => ws.cleanUp());

  const startHere = async (extra: string[] = [], cwd?: string) =>
    ws.rock(['start', '--host', '127.0.0.1', '--port', String(await freePort()), ...extra], START_TIMEOUT_MS, cwd);

  it('never takes a process whose command line merely contains "rock" for the service, even with a forged record', async () => {
    const broker = rocketMqBroker(ws.dir);
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.match(readFileSync(`/proc/${broker.pid}/cmdline`, 'utf8'), /rocketmq/);
      ws.writeRecordFor(broker.pid!);
      assert.equal(parseStatus((await ws.rock(['status'])).stdout).status, 'not running');
      const stopped = await ws.rock(['stop']);
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, /not running/);
      const started = await startHere();
      assert.equal(started.code, 0, started.stderr);
      assert.notEqual(Number(readFileSync(ws.pidFile, 'utf8')), broker.pid);
      assert.equal((await ws.rock(['stop'])).code, 0);
      assert.equal(broker.exitCode, null, 'the broker exited');
      assert.equal(broker.signalCode, null, 'the broker was signalled');
    } finally {
      broker.kill('SIGKILL');
    }
  });

  it('start fails when the /health that answers on its port is not its own child\'s', async () => {
    const port = await freePort();
    const other = await impostor(port);
    try {
      const result = await ws.rock(['start', '--host', '127.0.0.1', '--port', String(port)], START_TIMEOUT_MS);
      assert.equal(result.code, 1, `start said: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /EADDRINUSE/);
      assert.equal(existsSync(ws.pidFile), false);
    } finally {
      other.close();
    }
  });

  for (const [what, path] of [
    ['the pid file', (w: Workspace) => w.pidFile],
    ['service.json', (w: Workspace) => w.recordFile],
    ['service.log', (w: Workspace) => join(dirnameOf(w.pidFile), 'service.log')],
  ] as const) {
    it(`refuses to write ${what} through a symbolic link and leaves its target as it was`, async () => {
      const target = join(ws.dir, 'passwd');
      writeFileSync(target, 'root:x:0:0:root:/root:/bin/bash\n');
      mkdirSync(dirnameOf(ws.pidFile), { recursive: true });
      symlinkSync(target, path(ws));
      const result = await startHere();
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /is a symbolic link, not a regular file/);
      assert.equal(readFileSync(target, 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n');
    });
  }

  it('refuses a log that is a dangling symbolic link and creates nothing through it', async () => {
    mkdirSync(join(ws.dir, 'elsewhere'));
    const target = join(ws.dir, 'elsewhere', 'written-through.log');
    symlinkSync(target, ws.log);
    const result = await startHere();
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /LLMService\.log is a symbolic link, not a regular file/);
    assert.equal(existsSync(target), false);
    assert.equal(existsSync(ws.pidFile), false);
  });

  it('refuses a log that is a fifo or a directory without blocking', async () => {
    assert.equal(spawnSync('mkfifo', [ws.log]).status, 0);
    const fifo = await startHere();
    assert.equal(fifo.code, 1, fifo.stdout + fifo.stderr);
    assert.match(fifo.stderr, /LLMService\.log is a fifo, not a regular file/);
    rmSync(ws.log);
    mkdirSync(ws.log);
    const directory = await startHere();
    assert.equal(directory.code, 1, directory.stdout + directory.stderr);
    assert.match(directory.stderr, /LLMService\.log is a directory, not a regular file/);
  });

  describe('one data dir, one service', () => {
    let other: string;
    beforeEach(() => {
      other = makeTempDir('other-cwd');
    });
    afterEach(async () => {
      if (existsSync(join(other, 'data', 'cli', 'model', 'pid.txt'))) await ws.rock(['stop'], undefined, other);
      removeDir(other);
    });

    it('refuses a second service on the same data dir from another working dir, naming the holder', async () => {
      const first = await startHere();
      assert.equal(first.code, 0, first.stderr);
      const pid = readFileSync(ws.pidFile, 'utf8').trim();
      const second = await startHere([], other);
      assert.equal(second.code, 1, second.stdout + second.stderr);
      assert.match(second.stderr, new RegExp(`the data dir ${ws.dir} is in use by the model service pid ${pid} \\(working dir ${ws.dir},`));
      assert.equal(existsSync(join(other, 'data', 'cli', 'model', 'pid.txt')), false);
    });

    it('lets exactly one of two starts racing for one data dir run', async () => {
      const results = await Promise.all([startHere(), startHere([], other)]);
      assert.deepEqual(results.map((r) => r.code).sort(), [0, 1], results.map((r) => r.stdout + r.stderr).join('\n'));
      assert.match(results.find((r) => r.code === 1)!.stderr, /in use by the model service pid \d+/);
    });

    it('frees the data dir when its service is killed with SIGKILL', async () => {
      assert.equal((await startHere()).code, 0);
      process.kill(Number(readFileSync(ws.pidFile, 'utf8')), 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const again = await startHere([], other);
      assert.equal(again.code, 0, again.stderr);
    });
  });

  it('start --foreground writes the pid file and its record, and removes both when SIGTERM stops it', async () => {
    const child = spawnCli(['model-service', 'start', '--foreground', '--host', '127.0.0.1', '--port', '0'], {
      cwd: ws.dir,
      env: { ROCK_MODEL_SERVICE_DATA_DIR: ws.dir },
    });
    const done = collect(child, START_TIMEOUT_MS);
    for (let waited = 0; !existsSync(ws.recordFile) || JSON.parse(readFileSync(ws.recordFile, 'utf8')).port === null; waited += 50) {
      assert.ok(waited < 20_000, 'the service never recorded its port');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(Number(readFileSync(ws.pidFile, 'utf8')), child.pid);
    const status = parseStatus((await ws.rock(['status'])).stdout);
    assert.deepEqual([status.status, status.pid, status.health], ['running', String(child.pid), 'healthy']);
    child.kill('SIGTERM');
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(existsSync(ws.pidFile), false);
    assert.equal(existsSync(ws.recordFile), false);
    rmSync(ws.log, { force: true });
  });
});

function dirnameOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
