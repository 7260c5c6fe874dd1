import { writeFileSync } from 'node:fs';
import type { Session } from 'node:inspector/promises';
import { IDLE, selfTimeByArea, topFunctions, type CpuProfile } from './cpu-profile.ts';

const ms = (x: number) => x.toFixed(0);

/**
 * Runs `fn` under the inspector's CPU profiler (when `session` is given), writes the profile to
 * `file` and prints self time per area and the functions with the most self time. V8's sampler
 * charges wall time to the stack on top, also while other processes hold the core; so each area's
 * share of the busy samples, times the process's measured CPU time, estimates its CPU.
 */
export async function profiled<T>(session: Session | null, file: string, fn: () => Promise<T>, top = 0): Promise<T> {
  if (!session) return fn();
  await session.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  try {
    return await fn();
  } finally {
    const cpu = process.cpuUsage(cpu0);
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    writeFileSync(file, JSON.stringify(profile));
    const { areas, wallMs } = selfTimeByArea(profile);
    const sampled = areas.reduce((t, [a, v]) => t + (a === IDLE ? 0 : v), 0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `  CPU profile ${file}: wall ${ms(wallMs)} ms, process CPU ${ms(cpuMs)} ms (user ${ms(cpu.user / 1000)}, system ${ms(cpu.system / 1000)}); by area:`,
    );
    for (const [area, t] of areas)
      console.log(
        `    ${area.padEnd(26)} sampled ${ms(t).padStart(5)} ms` +
          (area === IDLE ? '' : ` ${((100 * t) / sampled).toFixed(1).padStart(5)} %  ≈ CPU ${ms((cpuMs * t) / sampled).padStart(5)} ms`),
      );
    if (top > 0) {
      console.log(`    top ${top} functions by self time (sampled ms, area):`);
      for (const f of topFunctions(profile, top)) console.log(`      ${ms(f.ms).padStart(5)}  ${f.area.padEnd(18)} ${f.name}`);
    }
  }
}
