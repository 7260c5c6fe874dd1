import { describe, expect, it } from 'vitest';
import { formatStage, startProfile, type Sample } from './start-profile.ts';

const MiB = 2 ** 20;

describe('start profile', () => {
  it('charges each stage what the process spent since the previous mark, the first since the process started', () => {
    const samples: Sample[] = [
      { wallMs: 500, cpuMs: 300, rssBytes: 80 * MiB, heapBytes: 10 * MiB },
      { wallMs: 1700, cpuMs: 800, rssBytes: 150 * MiB, heapBytes: 8 * MiB },
    ];
    const lines: string[] = [];
    const p = startProfile(
      true,
      (l) => lines.push(l),
      () => samples.shift()!,
    );
    p.mark('code loaded');
    p.mark('PGlite start');
    expect(lines).toEqual([
      'start profile: code loaded: 500 ms, cpu 300 ms, rss +80.0 MiB (now 80.0), heap +10.0 MiB',
      'start profile: PGlite start: 1200 ms, cpu 500 ms, rss +70.0 MiB (now 150.0), heap -2.0 MiB',
    ]);
  });

  it('takes no samples and logs nothing when not enabled', () => {
    const lines: string[] = [];
    let sampled = 0;
    const p = startProfile(
      false,
      (l) => lines.push(l),
      () => {
        sampled++;
        return { wallMs: 0, cpuMs: 0, rssBytes: 0, heapBytes: 0 };
      },
    );
    p.mark('anything');
    expect([lines, sampled]).toEqual([[], 0]);
  });

  it('reads the real process when no sampler is given', () => {
    const lines: string[] = [];
    startProfile(true, (l) => lines.push(l)).mark('now');
    expect(lines[0]).toMatch(/^start profile: now: \d+ ms, cpu \d+ ms, rss \+\d+\.\d MiB \(now \d+\.\d\), heap \+\d+\.\d MiB$/);
  });

  it('formats a shrinking stage with its sign', () => {
    expect(formatStage({ stage: 's', wallMs: 1, cpuMs: 0, rssBytes: -MiB, heapBytes: 0, totalRssBytes: MiB })).toBe(
      'start profile: s: 1 ms, cpu 0 ms, rss -1.0 MiB (now 1.0), heap +0.0 MiB',
    );
  });
});
