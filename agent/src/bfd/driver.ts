import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { mark } from '../debug/failover-timing.ts';
import {
  BFD_PORT,
  BFD_SOURCE_PORT_MAX,
  BFD_SOURCE_PORT_MIN,
  BFD_TTL,
  decodeControl,
  DIAG,
  diagText,
  encodeControl,
  REJECT_REASONS,
  type RejectReason,
} from './codec.ts';
import { detectionTimeMs, initialState, nextDeadline, step, txIntervalMs } from './session.ts';
import type { BfdState, Event, SessionDiscard, SessionParams, SessionState } from './types.ts';

/** One single-hop session, in keepalived's `bfd_instance` terms (intervals in ms). */
export interface BfdSessionConfig {
  name: string;
  /** Our address on the shared link (keepalived source_ip): sockets bind here. */
  local: string;
  /** The peer's address on that link (keepalived neighbor_ip). */
  peer: string;
  minTxMs: number;
  minRxMs: number;
  multiplier: number;
}

export interface BfdChange {
  name: string;
  peer: string;
  from: BfdState;
  to: BfdState;
  diag: number;
  reason: string;
}

interface BfdSessionStatus {
  name: string;
  local: string;
  peer: string;
  state: BfdState;
  remoteState: BfdState;
  localDiag: number;
  remoteDiag: number;
  /** How long the session has been in its state. */
  forMs: number;
  detectionTimeMs: number;
  txIntervalMs: number;
}

type BfdDropReason = RejectReason | SessionDiscard | 'unknown-peer';

export interface BfdDriverOptions {
  onChange(c: BfdChange): void;
  log?(line: string): void;
  /** Monotonic clock in ms (default performance.now) and the jitter source in [0, 1). */
  now?: () => number;
  random?: () => number;
  /** Our listening port and the peers' (3784). Loopback tests run several drivers on another. */
  port?: number;
}

export interface BfdDriver {
  status(): BfdSessionStatus[];
  /** Received packets dropped, per reason (RFC 5880 §6.8.6 checks and unknown sources). */
  drops(): Record<BfdDropReason, number>;
  /** Administrative control (§6.8.16); unknown names are ignored. */
  adminDown(name: string, diag?: number): void;
  adminUp(name: string): void;
  /**
   * Applies a new set of sessions: a session whose addresses are unchanged keeps its state (new
   * timers go through a Poll Sequence, RFC 5880 §6.8.3); a removed one signals AdminDown to its
   * peer first (§6.8.16); a new one starts Down.
   */
  update(sessions: BfdSessionConfig[]): Promise<void>;
  /** Graceful: every session signals AdminDown to its peer, then the sockets close. */
  stop(): Promise<void>;
}

type WithoutRand<E> = E extends unknown ? Omit<E, 'rand'> : never;

const toParams = (c: BfdSessionConfig, localDiscriminator: number): SessionParams => ({
  name: c.name,
  localDiscriminator,
  desiredMinTxUs: Math.round(c.minTxMs * 1000),
  requiredMinRxUs: Math.round(c.minRxMs * 1000),
  detectMult: c.multiplier,
});

/** The two sockets of one local address: :3784 to receive, one fixed high port to send from. */
interface Endpoint {
  rx: dgram.Socket;
  tx: dgram.Socket;
  sessions: Map<string, Runtime>;
}

interface Runtime {
  cfg: BfdSessionConfig;
  params: SessionParams;
  state: SessionState;
  timer: NodeJS.Timeout | null;
  ep: Endpoint;
}

function bind(sock: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    sock.once('error', onError);
    sock.bind({ address, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve();
    });
  });
}

/** RFC 5881 §4: the source port is one port from 49152–65535, fixed for the session's life. */
async function bindSender(address: string): Promise<dgram.Socket> {
  for (let attempt = 0; ; attempt++) {
    const sock = dgram.createSocket('udp4');
    try {
      await bind(sock, address, randomInt(BFD_SOURCE_PORT_MIN, BFD_SOURCE_PORT_MAX + 1));
      // RFC 5881 §5: single-hop packets leave with TTL 255 so the receiver can tell they were not routed.
      sock.setTTL(BFD_TTL);
      return sock;
    } catch (e) {
      sock.close();
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
    }
  }
}

/**
 * Runs single-hop BFD sessions (RFC 5881) over node:dgram. Every protocol decision is the pure
 * session's; this owns sockets, the clock, timers and discriminators.
 *
 * Limitation: node:dgram cannot read a received packet's IP TTL (no IP_RECVTTL), so the GTSM
 * check of RFC 5881 §5 (accept only TTL 255) cannot be made here. We compensate by binding the
 * receive socket to the local interface address (not the wildcard) and accepting packets only
 * from the configured peer address of a session on that address; the spec layer keeps peers
 * on-link. A host that must also refuse spoofed off-link sources can add the kernel check,
 * e.g. nftables `udp dport 3784 ip ttl != 255 drop`. What we send does carry TTL 255.
 */
export async function startBfd(sessions: BfdSessionConfig[], opts: BfdDriverOptions): Promise<BfdDriver> {
  const now = opts.now ?? (() => performance.now());
  const random = opts.random ?? Math.random;
  const log = opts.log ?? (() => {});
  const port = opts.port ?? BFD_PORT;
  const drops = Object.fromEntries([...REJECT_REASONS, 'discriminator', 'admin-down', 'unknown-peer'].map((r) => [r, 0])) as Record<BfdDropReason, number>;
  const endpoints = new Map<string, Endpoint>();
  const byName = new Map<string, Runtime>();
  const pending = new Set<Promise<void>>();
  const discriminators = new Set<number>();
  let stopped = false;

  const newDiscriminator = () => {
    for (;;) {
      const d = randomInt(1, 0xffff_ffff);
      if (!discriminators.has(d)) {
        discriminators.add(d);
        return d;
      }
    }
  };

  const rearm = (rt: Runtime) => {
    if (rt.timer) clearTimeout(rt.timer);
    rt.timer = null;
    const d = nextDeadline(rt.state);
    if (d === null || stopped) return;
    rt.timer = setTimeout(
      () => {
        rt.timer = null;
        feed(rt, { type: 'timer' });
      },
      Math.max(0, Math.ceil(d - now())),
    );
  };

  const send = (rt: Runtime, bytes: Buffer) => {
    const p = new Promise<void>((resolve) =>
      rt.ep.tx.send(bytes, port, rt.cfg.peer, (e) => {
        if (e) log(`bfd ${rt.cfg.name}: send to ${rt.cfg.peer} failed: ${e.message}`);
        resolve();
      }),
    );
    pending.add(p);
    void p.then(() => pending.delete(p));
  };

  function feed(rt: Runtime, e: WithoutRand<Event>): void {
    const r = step(rt.params, rt.state, { ...e, rand: random() } as Event, now());
    rt.state = r.state;
    for (const a of r.actions) {
      switch (a.type) {
        case 'send':
          send(rt, encodeControl(a.packet));
          break;
        case 'state-change':
          mark?.('bfd', `${rt.cfg.name} ${a.from}→${a.to}`);
          // Subscribers first: a Down here is a VRRP takeover, which must not wait for a log write.
          opts.onChange({ name: rt.cfg.name, peer: rt.cfg.peer, from: a.from, to: a.to, diag: a.diag, reason: a.reason });
          log(`bfd ${rt.cfg.name}: ${a.from} -> ${a.to} (${diagText(a.diag)}): ${a.reason}`);
          break;
        case 'discard':
          drops[a.reason]++;
          break;
      }
    }
    rearm(rt);
  }

  const endpoint = async (local: string): Promise<Endpoint> => {
    const have = endpoints.get(local);
    if (have) return have;
    const rx = dgram.createSocket('udp4');
    await bind(rx, local, port);
    const tx = await bindSender(local).catch((e: unknown) => {
      rx.close();
      throw e;
    });
    const ep: Endpoint = { rx, tx, sessions: new Map() };
    rx.on('message', (msg, rinfo) => {
      const rt = ep.sessions.get(rinfo.address);
      if (!rt) {
        drops['unknown-peer']++;
        return;
      }
      const d = decodeControl(msg);
      if (!d.ok) drops[d.reason]++;
      else feed(rt, { type: 'packet', packet: d.packet });
    });
    for (const s of [rx, tx]) s.on('error', (e) => log(`bfd socket on ${local}: ${e.message}`));
    endpoints.set(local, ep);
    return ep;
  };

  const check = (list: BfdSessionConfig[]) => {
    const names = new Set<string>();
    const pairs = new Set<string>();
    for (const c of list) {
      if (names.has(c.name)) throw new Error(`duplicate BFD session ${c.name}`);
      if (pairs.has(`${c.local}>${c.peer}`)) throw new Error(`two BFD sessions from ${c.local} to ${c.peer}`);
      names.add(c.name);
      pairs.add(`${c.local}>${c.peer}`);
    }
  };

  const add = async (cfg: BfdSessionConfig): Promise<Runtime> => {
    const ep = await endpoint(cfg.local);
    const params = toParams(cfg, newDiscriminator());
    const rt: Runtime = { cfg, params, state: initialState(params, now()), timer: null, ep };
    ep.sessions.set(cfg.peer, rt);
    byName.set(cfg.name, rt);
    return rt;
  };

  /** A removed session tells its peer (AdminDown, §6.8.16) before it goes; an endpoint left empty closes. */
  const remove = async (rt: Runtime) => {
    feed(rt, { type: 'admin-down', diag: DIAG.adminDown });
    if (rt.timer) clearTimeout(rt.timer);
    rt.timer = null;
    byName.delete(rt.cfg.name);
    rt.ep.sessions.delete(rt.cfg.peer);
    discriminators.delete(rt.params.localDiscriminator);
    if (rt.ep.sessions.size) return;
    endpoints.delete(rt.cfg.local);
    await Promise.all(pending);
    await Promise.all([rt.ep.rx, rt.ep.tx].map((sock) => new Promise<void>((r) => sock.close(() => r()))));
  };

  check(sessions);
  for (const cfg of sessions) await add(cfg);
  for (const rt of byName.values()) feed(rt, { type: 'start' });

  return {
    status() {
      const t = now();
      return [...byName.values()].map(({ cfg, state: s }) => ({
        name: cfg.name,
        local: cfg.local,
        peer: cfg.peer,
        state: s.state,
        remoteState: s.remoteState,
        localDiag: s.localDiag,
        remoteDiag: s.remoteDiag,
        forMs: t - s.since,
        detectionTimeMs: detectionTimeMs(s),
        txIntervalMs: txIntervalMs(s),
      }));
    },
    drops: () => ({ ...drops }),
    adminDown(name, diag = DIAG.adminDown) {
      const rt = byName.get(name);
      if (rt && !stopped) feed(rt, { type: 'admin-down', diag });
    },
    adminUp(name) {
      const rt = byName.get(name);
      if (rt && !stopped) feed(rt, { type: 'admin-up' });
    },
    async update(next) {
      if (stopped) return;
      check(next);
      const wanted = new Map(next.map((c) => [c.name, c]));
      for (const rt of [...byName.values()]) {
        const w = wanted.get(rt.cfg.name);
        if (!w || w.local !== rt.cfg.local || w.peer !== rt.cfg.peer) await remove(rt);
      }
      const fresh: Runtime[] = [];
      for (const cfg of next) {
        const rt = byName.get(cfg.name);
        if (!rt) fresh.push(await add(cfg));
        else if (cfg.minTxMs !== rt.cfg.minTxMs || cfg.minRxMs !== rt.cfg.minRxMs || cfg.multiplier !== rt.cfg.multiplier) {
          rt.cfg = cfg;
          rt.params = toParams(cfg, rt.params.localDiscriminator);
          feed(rt, { type: 'reconfigure' });
        }
      }
      for (const rt of fresh) feed(rt, { type: 'start' });
    },
    async stop() {
      if (stopped) return;
      for (const rt of byName.values()) feed(rt, { type: 'admin-down', diag: DIAG.adminDown });
      stopped = true;
      for (const rt of byName.values()) rearm(rt);
      await Promise.all(pending);
      mark?.('bfd-admin-down', [...byName.keys()].join(','));
      await Promise.all([...endpoints.values()].flatMap((ep) => [ep.rx, ep.tx]).map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
