// `node examples/codex/run.mjs`: the real Codex CLI takes scripted turns through the model service.
import { launch } from '../coding-agents/launch.mjs';

launch(new URL('./runtime.ts', import.meta.url));
