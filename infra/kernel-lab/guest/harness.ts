/**
 * Scenario bookkeeping: every scenario ends as PASS, FAIL or PENDING (visible and counted, with
 * its reason), and every figure is printed as `FIGURE scenario name value`.
 */

import { availableParallelism } from 'node:os';
import { cpuReport, sampleCpu } from './cpu-usage.ts';

/** A check that did not hold. */
class LabFailure extends Error {}
/** The scenario cannot run yet; the reason is printed and counted, never silent. */
export class LabPending extends Error {}

/** Fail the scenario unless `cond`. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new LabFailure(message);
}

/**
 * Parts of one scenario that each run and report (ok, or FAILED with the reason), so one run shows
 * every part; `done()` then fails the scenario with every failure, the first one first.
 */
export function scenarioParts(h: Harness): { part(name: string, body: () => Promise<void>): Promise<void>; done(): void } {
  const failures: string[] = [];
  return {
    async part(name, body) {
      try {
        await body();
        h.say(`${name}: ok`);
      } catch (e) {
        failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
        h.say(`${name}: FAILED — ${failures[failures.length - 1]}`);
      }
    },
    done: () => check(failures.length === 0, failures.join('\n')),
  };
}

export type Outcome = 'PASS' | 'FAIL' | 'PENDING';

export class Harness {
  readonly results: { name: string; outcome: Outcome; detail: string; seconds: number }[] = [];
  private current = '';
  /** Called after a scenario fails, to print what the hosts looked like at that moment. */
  onFail: (() => Promise<void>) | null = null;

  /** Print a line tagged with the running scenario. */
  say(line: string): void {
    process.stdout.write(`  ${this.current ? `[${this.current}] ` : ''}${line}\n`);
  }

  /** Print a figure (scenario evidence, not a performance claim under TCG). */
  figure(name: string, value: string | number, unit = ''): void {
    process.stdout.write(`FIGURE ${this.current} ${name} ${value}${unit ? ` ${unit}` : ''}\n`);
  }

  /** Run one scenario; a thrown LabPending marks it pending, anything else fails it. */
  async scenario(name: string, body: () => Promise<void>, pendingReason?: string): Promise<Outcome> {
    this.current = name;
    const t0 = Date.now();
    const cpu0 = sampleCpu();
    process.stdout.write(`\n=== ${name}\n`);
    let outcome: Outcome = 'PASS';
    let detail = '';
    if (pendingReason) {
      outcome = 'PENDING';
      detail = pendingReason;
    } else {
      try {
        await body();
      } catch (e) {
        outcome = e instanceof LabPending ? 'PENDING' : 'FAIL';
        detail = e instanceof Error ? (e instanceof LabFailure || e instanceof LabPending ? e.message : (e.stack ?? e.message)) : String(e);
      }
    }
    if (outcome === 'FAIL' && this.onFail) await this.onFail().catch((e) => process.stdout.write(`diagnostics failed: ${e}\n`));
    // Who had the guest's CPUs: a timing failure under a saturated guest says little about the agents.
    this.say(`guest CPU: ${cpuReport(cpu0, sampleCpu(), availableParallelism())}`);
    const seconds = (Date.now() - t0) / 1000;
    this.results.push({ name, outcome, detail, seconds });
    process.stdout.write(`${outcome} ${name} (${seconds.toFixed(1)} s)${detail ? `: ${detail}` : ''}\n`);
    this.current = '';
    return outcome;
  }

  /** Print the summary; returns the guest's exit status (1 when anything failed). */
  summary(): number {
    const count = (o: Outcome) => this.results.filter((r) => r.outcome === o).length;
    process.stdout.write(`\n=== summary: ${count('PASS')} passed, ${count('FAIL')} failed, ${count('PENDING')} pending\n`);
    for (const r of this.results) process.stdout.write(`${r.outcome.padEnd(7)} ${r.name}${r.outcome === 'PASS' ? '' : ` — ${r.detail.split('\n')[0]}`}\n`);
    return count('FAIL') > 0 || this.results.length === 0 ? 1 : 0;
  }
}
