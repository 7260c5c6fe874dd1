import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { NetnsLab } from './netns.ts';

/**
 * The lab's client: `ping -D -i 0.01` to the VIP from its own namespace. Replies carry the
 * kernel's receive timestamps, so the longest gap between consecutive replies is the outage the
 * client saw (with 10 ms resolution).
 */
export class VipPinger {
  private proc: ChildProcess;
  /** Reply times, seconds since the epoch (ping -D). */
  readonly replies: number[] = [];

  constructor(lab: NetnsLab, client: string, vip: string) {
    this.proc = lab.spawn(client, ['ping', '-n', '-D', '-i', '0.01', '-W', '1', vip]);
    createInterface({ input: this.proc.stdout!, crlfDelay: Infinity }).on('line', (l) => {
      const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(l);
      if (m) this.replies.push(Number(m[1]));
    });
  }

  /** Waits until `n` more replies arrived (the VIP answers). */
  async waitReplies(n: number, timeoutMs = 10_000): Promise<void> {
    const target = this.replies.length + n;
    const end = Date.now() + timeoutMs;
    while (this.replies.length < target) {
      if (Date.now() > end) throw new Error(`VIP did not answer ${n} pings within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Longest gap between consecutive replies from reply index `from` on, in ms. */
  longestGapMs(from = 0): number {
    return this.longestGap(from).ms;
  }

  /** The longest gap from reply index `from` on: its length (ms) and the replies around it (epoch ms). */
  longestGap(from = 0): { ms: number; lastReplyAt: number; firstReplyAt: number } {
    let best = { ms: 0, lastReplyAt: NaN, firstReplyAt: NaN };
    for (let i = Math.max(1, from + 1); i < this.replies.length; i++) {
      const ms = (this.replies[i] - this.replies[i - 1]) * 1000;
      if (ms > best.ms) best = { ms, lastReplyAt: this.replies[i - 1] * 1000, firstReplyAt: this.replies[i] * 1000 };
    }
    return { ...best, ms: Math.round(best.ms) };
  }

  /**
   * Client downtime from reply index `from` on: the sum of the gaps longer than `overMs` (a gap
   * of a few ping intervals is scheduling noise, not an outage), in ms.
   */
  downtimeMs(from = 0, overMs = 30): number {
    let sum = 0;
    for (let i = Math.max(1, from + 1); i < this.replies.length; i++) {
      const gap = (this.replies[i] - this.replies[i - 1]) * 1000;
      if (gap > overMs) sum += gap;
    }
    return Math.round(sum);
  }

  stop(): void {
    this.proc.kill('SIGINT');
  }
}
