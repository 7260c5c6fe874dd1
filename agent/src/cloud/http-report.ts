import { backoffDelayMs } from '#shared/util/backoff.ts';
import type { NodeEvent } from '#shared/wire/events.ts';
import type { NodeStatus } from '#shared/wire/status.ts';
import { settledWithin } from './settled-within.ts';
import { statusText } from './status-text.ts';

export interface HttpReportOptions {
  /** The cloud's base URL from enrollment (`report.url`). */
  url: string;
  username: string;
  password: string;
  log: (line: string) => void;
  /** Back-off bounds; tests shorten them. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  fetch?: typeof fetch;
  /** How long close() waits on the cloud in all (CLOSE_WITHIN_MS); tests shorten it. */
  closeWithinMs?: number;
}

export interface HttpReporter {
  publishStatus(s: NodeStatus): void;
  publishEvent(e: NodeEvent): void;
  /** Sends `final` (online:false) once, best effort, and stops: within `closeWithinMs`, the request in flight then aborted. */
  close(final?: NodeStatus): Promise<void>;
}

const MAX_QUEUED_EVENTS = 1000;
const TIMEOUT_MS = 10_000;
/**
 * What a stop waits on the cloud: the report in flight, then the final status. Each request may
 * take TIMEOUT_MS, and two of them outlasted systemd's TimeoutStopSec (15 s), which then kills the
 * agent with its node lock held; a request left running also kept the process from exiting.
 */
const CLOSE_WITHIN_MS = 3000;

/**
 * The agent's HTTPS report path, beside the broker link: the same status and events POSTed to
 * `/v1/agent/status` and `/v1/agent/events` with the node's broker credentials (HTTP Basic), for a
 * cloud that hears no broker (Workers). Only the newest status matters, so a status waiting to be
 * sent is replaced by a newer one; events go in order, queued (bounded) while the cloud is away,
 * and retried with back-off. A refusal (4xx other than 429) is logged and dropped: sending it
 * again would be refused again.
 */
export function startHttpReporter(o: HttpReportOptions): HttpReporter {
  const doFetch = o.fetch ?? fetch;
  const auth = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString('base64')}`;
  let status: NodeStatus | null = null;
  const events: NodeEvent[] = [];
  let attempt = 0;
  let running: Promise<void> | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;
  /** Aborts whatever request is in flight when close() runs out of time. */
  const stop = new AbortController();

  /** Answers true when the report is done with (stored or refused for good). */
  async function post(path: string, body: string, timeoutMs = TIMEOUT_MS, signal: AbortSignal | null = stop.signal): Promise<boolean> {
    try {
      const res = await doFetch(new URL(path, o.url), {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body,
        signal: signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), signal]) : AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (res.ok) return true;
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        o.log(`report ${path} refused: HTTP ${res.status}: ${text.slice(0, 300)}`);
        return true;
      }
      o.log(`report ${path} failed: HTTP ${res.status}`);
    } catch (err) {
      o.log(signal?.aborted ? `report ${path} abandoned: the agent is stopping` : `report ${path} failed: ${(err as Error).message}`);
    }
    return false;
  }

  async function flush(): Promise<void> {
    while (!closed && (status || events.length)) {
      const ok = status ? await sendStatus() : await sendEvent();
      if (!ok) {
        const delay = backoffDelayMs(attempt++, Math.random(), { baseMs: o.baseDelayMs, maxMs: o.maxDelayMs });
        retry = setTimeout(() => {
          retry = null;
          kick();
        }, delay);
        retry.unref();
        return;
      }
      attempt = 0;
    }
  }

  async function sendStatus(): Promise<boolean> {
    const s = status!;
    const ok = await post('/v1/agent/status', statusText(s));
    if (ok && status === s) status = null;
    return ok;
  }

  async function sendEvent(): Promise<boolean> {
    const ok = await post('/v1/agent/events', JSON.stringify(events[0]));
    if (ok) events.shift();
    return ok;
  }

  function kick(): void {
    if (closed || running || retry) return;
    running = flush().finally(() => {
      running = null;
    });
  }

  return {
    publishStatus(s) {
      status = s;
      kick();
    },
    publishEvent(e) {
      events.push(e);
      if (events.length > MAX_QUEUED_EVENTS) events.splice(0, events.length - MAX_QUEUED_EVENTS);
      kick();
    },
    async close(final) {
      closed = true;
      if (retry) clearTimeout(retry);
      const until = performance.now() + (o.closeWithinMs ?? CLOSE_WITHIN_MS);
      const left = () => Math.max(0, Math.floor(until - performance.now()));
      // The report in flight gets half the time, the final status (the cloud's word that this
      // stop was clean) the rest.
      if (running) await settledWithin(left() / 2, running);
      stop.abort();
      // Its own time limit only: the abort above is for the report that was in flight.
      if (final && left() > 0) await post('/v1/agent/status', statusText(final), left(), null);
    },
  };
}
