/** What one reliability scenario reports: the row of the report table, plus anything that broke the promise. */
export interface ScenarioFigures {
  scenario: string;
  /** The load held (lines, requests, turns, bytes). */
  load: string;
  /** The faults injected. */
  faults: string;
  /** The inputs tried. */
  inputs: string;
  /** Requests, responses or lines lost or swapped: the promise is zero. */
  lost: number;
  /** Measured values worth a column of their own (latencies, memory, counts). */
  measured: Record<string, string | number>;
  /** Every broken expectation, in words; empty when the scenario held. */
  violations: string[];
  seconds: number;
}

/** Collects violations as a scenario runs, so a run reports all of them instead of the first. */
export class Findings {
  readonly violations: string[] = [];
  check(ok: boolean, message: string): boolean {
    if (!ok) this.violations.push(message);
    return ok;
  }
}
