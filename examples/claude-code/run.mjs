// `node examples/claude-code/run.mjs`: the real Claude Code takes scripted turns through the model service.
import { launch } from '../coding-agents/launch.mjs';

launch(new URL('./runtime.ts', import.meta.url));
