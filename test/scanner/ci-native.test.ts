import assert from 'node:assert/strict';
import { availableEngines, loadNativeEngine } from '../../src/scanner/load.js';

// Both scanners must be green in every CI run. If the addon silently failed to build, every
// suite parameterised over availableEngines() would pass on the TypeScript engine alone.
describe('scanner: CI exercises both engines', () => {
  it('the native engine loads in CI, so the parameterised suites run on native and TypeScript', function () {
    if (process.env.CI !== 'true' || process.env.ROCK_MS_SKIP_NATIVE_BUILD === '1') this.skip();
    const { engine, attempts } = loadNativeEngine();
    assert.ok(engine, `the native addon did not load in CI:\n${attempts.map((a) => `${a.place}: ${a.reason}`).join('\n')}`);
    assert.deepEqual(availableEngines().map((e) => e.kind).sort(), ['native', 'ts']);
  });
});
