/**
 * How the real agents are started against a model endpoint, offline: the environment, the
 * command line and the configuration file each needs. Shared by the capture scenarios, the
 * end-to-end tests and the examples, so all three drive the agents the same way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The turn-1 tool call of the tests and examples: Claude Code's shell tool and its input. */
export const CLAUDE_SHELL_TOOL = 'Bash';
/** Codex's shell tool (a `function` tool in its Responses request) and its argument's name. */
export const CODEX_SHELL_TOOL = 'exec_command';
export const CODEX_SHELL_ARGUMENT = 'cmd';

export interface ClaudeRun {
  /** The argv, starting with the binary. */
  argv: string[];
  env: Record<string, string>;
}

/**
 * The command and environment that run Claude Code in print mode against `baseUrl` (the
 * service's root, no `/v1`): any API key, no non-essential traffic, Bash allowed without a prompt,
 * and `home` as HOME so no earlier settings or sessions leak in.
 */
export function claudeRun(binPath: string, baseUrl: string, prompt: string, home: string, extraEnv: Record<string, string> = {}): ClaudeRun {
  mkdirSync(home, { recursive: true });
  return {
    argv: [binPath, '-p', prompt, '--allowedTools', CLAUDE_SHELL_TOOL],
    env: {
      HOME: home,
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: 'rock-model-service-local',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ...extraEnv,
    },
  };
}

export interface CodexRun {
  argv: string[];
  env: Record<string, string>;
}

/**
 * Writes `<codexHome>/config.toml` naming a model provider whose base URL is `baseUrlV1` (the
 * service's `/v1`) with `wire_api = "responses"`, and returns the `codex exec` command that runs
 * `prompt` without approvals or sandbox, with `codexHome` as HOME. `providerSettings` are extra `key = value` lines for the
 * provider table (for example `stream_idle_timeout_ms = 5000`).
 */
export function codexRun(binPath: string, baseUrlV1: string, prompt: string, codexHome: string, providerSettings: Record<string, string | number> = {}, model = 'gpt-5.1-codex'): CodexRun {
  mkdirSync(codexHome, { recursive: true });
  const extra = Object.entries(providerSettings).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
  writeFileSync(
    join(codexHome, 'config.toml'),
    [
      `model = ${JSON.stringify(model)}`,
      'model_provider = "rock-model-service"',
      '',
      '[model_providers.rock-model-service]',
      'name = "rock-model-service"',
      `base_url = ${JSON.stringify(baseUrlV1)}`,
      'wire_api = "responses"',
      ...extra,
      '',
    ].join('\n'),
  );
  return {
    argv: [binPath, 'exec', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', prompt],
    // HOME too: Codex runs its shell tool as a login shell (`bash -lc`), which would otherwise read
    // this machine's ~/.profile; here that runs `pyenv rehash`, whose lock, left behind by a killed
    // shell, makes every later login shell hang.
    env: { CODEX_HOME: codexHome, HOME: codexHome },
  };
}
