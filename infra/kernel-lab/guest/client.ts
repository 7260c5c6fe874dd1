/**
 * The lab client, run once inside the client namespace and driven over stdin/stdout with one
 * JSON object per line: `{id, op, ...}` → `{id, ok, result | error}`. Node starts slowly under
 * TCG, so one long-lived process serves every scenario.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { LineQueue } from './line-queue.ts';

interface Got {
  ok: boolean;
  body: string;
  server?: string;
  bytes: number;
  error?: string;
}

/**
 * One HTTP GET on a fresh connection (no keep-alive: every request is scheduled by IPVS), written
 * and read on a bare socket. node:http cost about a third more CPU per request for the same
 * answer, and the emulated CPUs the client shares with the agents are what limits its rate.
 */
function get(url: string, localAddress: string | undefined, timeoutMs: number): Promise<Got> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const sock = connect({ host, port: Number(u.port || 80), localAddress });
    // The client port of a failed request names its connection in the directors' `ipvsadm -Lnc`.
    let port: number | undefined;
    let head: string | null = null;
    let bytes = 0;
    let pending = '';
    const kept: Buffer[] = [];
    let done = false;
    const finish = (g: Got) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(g);
    };
    const fail = (why: string) => finish({ ok: false, body: '', bytes, error: `${why}${port ? ` (port ${port})` : ' (not connected)'}` });
    sock.setTimeout(timeoutMs, () => fail('timeout'));
    sock.on('connect', () => {
      port = sock.localPort;
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: close\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      if (head !== null) {
        bytes += d.length;
        if (kept.length < 4) kept.push(d);
        return;
      }
      pending += d.toString('latin1');
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      head = pending.slice(0, end);
      const rest = Buffer.from(pending.slice(end + 4), 'latin1');
      bytes += rest.length;
      if (rest.length) kept.push(rest);
    });
    sock.on('end', () => {
      if (head === null) return fail('socket hang up');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      const server = /\r\nx-server: *([^\r]*)/i.exec(head)?.[1];
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length !== undefined && Number(length) !== bytes) return fail(`body of ${bytes} bytes, content-length ${length}`);
      const body = Buffer.concat(kept).toString().slice(0, 200).trim();
      finish({ ok: status === '200', body, server, bytes });
    });
    sock.on('error', (e) => fail(e.message));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A request loop running: a mark (answers per server since the last one) and its stop (the whole result). */
interface RequestLoop {
  mark(): Promise<Record<string, unknown>>;
  stop(): Promise<Record<string, unknown>>;
}
const loops = new Map<string, RequestLoop>();

/**
 * The loop in this process: `workers` requests in flight at once, each on a fresh connection (as
 * fast as the guest allows when intervalMs is 0). About 14 ms of the guest's emulated CPU a request.
 */
function nodeLoop(m: Req): RequestLoop {
  const url = m.url as string;
  const local = m.localAddress as string | undefined;
  const loop = {
    stop: false,
    ok: 0,
    fail: 0,
    lastOk: Date.now(),
    longestGapMs: 0,
    servers: {} as Record<string, number>,
    sinceMark: {} as Record<string, number>,
    errors: [] as string[],
    startedAt: Date.now(),
  };
  const worker = async () => {
    while (!loop.stop) {
      const t = Date.now();
      const r = await get(url, local, (m.timeoutMs as number) ?? 500);
      const now = Date.now();
      if (r.ok) {
        loop.longestGapMs = Math.max(loop.longestGapMs, now - loop.lastOk);
        loop.lastOk = now;
        loop.ok++;
        loop.servers[r.body] = (loop.servers[r.body] ?? 0) + 1;
        loop.sinceMark[r.body] = (loop.sinceMark[r.body] ?? 0) + 1;
      } else {
        loop.fail++;
        if (loop.errors.length < 5) loop.errors.push(`${new Date(now).toISOString()} ${r.error ?? 'status not 200'}`);
      }
      const wait = (m.intervalMs as number) - (Date.now() - t);
      if (wait > 0) await sleep(wait);
    }
  };
  const done = Promise.all(Array.from({ length: (m.workers as number) ?? 1 }, worker));
  return {
    mark: async () => {
      const since = loop.sinceMark;
      loop.sinceMark = {};
      return { ok: loop.ok, fail: loop.fail, sinceMark: since };
    },
    stop: async () => {
      loop.stop = true;
      await done;
      // A gap still open when the loop stops counts too (no answer since the last success).
      loop.longestGapMs = Math.max(loop.longestGapMs, Date.now() - loop.lastOk);
      const seconds = (Date.now() - loop.startedAt) / 1000;
      const { ok, fail, longestGapMs, servers, sinceMark, errors } = loop;
      return { ok, fail, longestGapMs, servers, sinceMark, errors, seconds, ratePerS: (ok + fail) / seconds };
    },
  };
}

const LAB_LOOP = fileURLToPath(new URL('./lab-loop', import.meta.url));

/**
 * The loop in C (loop.c, `lab-loop` beside this file; the default, LAB_C_TRAFFIC=0 picks nodeLoop): the same requests from
 * threads of a process of its own, at a fraction of the Node loop's CPU a request. Its answers are
 * JSON lines, one per command (`m`, `s`) in order.
 */
async function cLoop(m: Req): Promise<RequestLoop> {
  const u = new URL(m.url as string);
  const args = [
    u.hostname.replace(/^\[|\]$/g, ''),
    String(Number(u.port || 80)),
    u.host,
    `${u.pathname}${u.search}`,
    (m.localAddress as string | undefined) ?? '-',
    String((m.workers as number) ?? 1),
    String((m.timeoutMs as number) ?? 500),
    String((m.intervalMs as number) ?? 0),
  ];
  const child = spawn(LAB_LOOP, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const answers = new LineQueue();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  createInterface({ input: child.stdout }).on('line', (l) => answers.push(l));
  child.on('error', (e) => answers.end(`lab-loop: ${e.message}`));
  // 'close', not 'exit': 'exit' can come before the last lines of stdout are read, and the stop's
  // own answer (printed just before the loop exits) was then lost as "lab-loop exited (0)".
  child.on('close', (code, signal) => answers.end(`lab-loop exited (${code ?? signal}): ${stderr.trim()}`));
  const next = async () => (await answers.next()) ?? JSON.stringify({ error: answers.ended });
  const answer = async () => {
    const r = JSON.parse(await next()) as Record<string, unknown>;
    if (typeof r.error === 'string') throw new Error(r.error);
    return r;
  };
  const first = await answer();
  if (first.ready !== true) throw new Error(`lab-loop did not start: ${JSON.stringify(first)}`);
  const ask = (command: 'm' | 's') => {
    child.stdin.write(`${command}\n`);
    return answer();
  };
  return { mark: () => ask('m'), stop: () => ask('s') };
}

const holds = new Map<string, { sock: Socket; echoes: LineQueue }>();

type Req = Record<string, unknown> & { id: number; op: string };

async function handle(m: Req): Promise<unknown> {
  const url = m.url as string;
  const local = m.localAddress as string | undefined;
  const timeoutMs = (m.timeoutMs as number) ?? 3000;
  switch (m.op) {
    case 'get':
      return get(url, local, timeoutMs);
    case 'tally': {
      const counts: Record<string, number> = {};
      let fail = 0;
      const errors: string[] = [];
      for (let i = 0; i < (m.n as number); i++) {
        const r = await get(url, local, timeoutMs);
        if (r.ok) counts[r.body] = (counts[r.body] ?? 0) + 1;
        else {
          fail++;
          if (errors.length < 3) errors.push(r.error ?? `status not 200`);
        }
      }
      return { counts, fail, errors };
    }
    case 'loopStart': {
      if (loops.has(m.name as string)) throw new Error(`loop ${m.name} runs already`);
      loops.set(m.name as string, process.env.LAB_C_TRAFFIC === '1' ? await cLoop(m) : nodeLoop(m));
      return {};
    }
    case 'loopMark': {
      const loop = loops.get(m.name as string);
      if (!loop) throw new Error(`no loop ${m.name}`);
      return loop.mark();
    }
    case 'loopStop': {
      const loop = loops.get(m.name as string);
      if (!loop) throw new Error(`no loop ${m.name}`);
      loops.delete(m.name as string);
      return loop.stop();
    }
    case 'hold': {
      const sock = connect({ host: m.host as string, port: m.port as number, localAddress: local });
      const h = { sock, echoes: new LineQueue() };
      createInterface({ input: sock, crlfDelay: Infinity }).on('line', (l) => h.echoes.push(l));
      sock.on('close', () => h.echoes.end('connection closed'));
      sock.on('error', () => h.echoes.end('connection closed'));
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('error', reject);
        setTimeout(() => reject(new Error('connect timeout')), timeoutMs);
      });
      holds.set(m.name as string, h);
      return { localPort: sock.localPort };
    }
    case 'holdPing': {
      const h = holds.get(m.name as string);
      if (!h) throw new Error(`no connection ${m.name}`);
      if (h.echoes.ended) return { ok: false, error: h.echoes.ended };
      h.sock.write(`${m.text}\n`);
      const line = await h.echoes.next(timeoutMs);
      return line !== null ? { ok: true, reply: line } : { ok: false, error: h.echoes.ended ?? 'no echo within timeout' };
    }
    case 'holdClose': {
      holds.get(m.name as string)?.sock.destroy();
      holds.delete(m.name as string);
      return {};
    }
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line) as Req;
  handle(m).then(
    (result) => process.stdout.write(JSON.stringify({ id: m.id, ok: true, result }) + '\n'),
    (e: unknown) => process.stdout.write(JSON.stringify({ id: m.id, ok: false, error: String(e) }) + '\n'),
  );
});
process.stdout.write(JSON.stringify({ id: 0, ok: true, result: 'ready' }) + '\n');
