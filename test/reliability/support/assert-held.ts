import assert from 'node:assert/strict';
import type { ScenarioFigures } from './figures.js';

/** Fails the test with every violation of the scenario listed, unless it held and lost nothing. Prints the figures when `print` is set. */
export function assertHeld(figures: ScenarioFigures, print = false): void {
  if (print) {
    const measured = Object.entries(figures.measured).map(([k, v]) => `${k}: ${v}`).join('; ');
    process.stdout.write(`      [${figures.scenario}] ${figures.load}; lost ${figures.lost}; ${measured}; ${figures.seconds.toFixed(1)} s\n`);
  }
  assert.deepEqual(figures.violations, [], `${figures.scenario}: the promise broke`);
  assert.equal(figures.lost, 0, `${figures.scenario}: ${figures.lost} lost`);
}
