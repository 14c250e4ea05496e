// Configuration: a YAML file (the CLI's --config-file), overrides (its flags), the environment, the defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, resolveServiceConfig } from 'rock-model-service';

const dir = mkdtempSync(join(tmpdir(), 'rms-example-'));
const file = join(dir, 'proxy.yaml');
writeFileSync(file, ['type: proxy', 'port: 9000', 'proxy_rules:', '  default: http://127.0.0.1:8000/v1', 'request_timeout: 30', ''].join('\n'));

const config = await loadConfig({ configFile: file, overrides: { port: 9001 }, env: { ROCK_MODEL_SERVICE_DATA_DIR: dir } });
console.log(config.type, config.port, config.requestTimeoutMs, config.retryableStatusCodes, config.proxyRules);
console.log('recording:', config.recordingFile === join(dir, 'LLMTraj.jsonl'));

// Without a file: the same resolution, synchronous, and no YAML reader loaded.
const local = resolveServiceConfig({ host: '127.0.0.1' }, { ROCK_MODEL_SERVICE_DATA_DIR: dir });
console.log(local.type, local.host, local.port, local.requestTimeoutMs, local.bodyLimitBytes);

writeFileSync(file, 'port: 9000\nretry_attempts: 3\n');
await loadConfig({ configFile: file }).catch((err) => console.log(err instanceof ConfigError, err.key, err.message.replace(file, 'proxy.yaml').split(';')[0]));
try {
  resolveServiceConfig({ type: 'proxy', retryableStatusCodes: [200] });
} catch (err) {
  console.log(err.code, err.key, err.message);
}
rmSync(dir, { recursive: true, force: true });
