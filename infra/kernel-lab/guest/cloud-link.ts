/**
 * The guest's way to the real cloud: `lvsfleet serve` runs on the host (run.sh), reached through
 * qemu user networking with `restrict=on` (the guest reaches nothing else) and one `guestfwd` per
 * port, 10.0.2.100:8080 (HTTP) and 10.0.2.100:1883 (MQTT). The agents live in namespaces on the
 * lab bridge, so the driver gives the bridge 10.99.0.1 and relays those two ports from there.
 */
import { connect, createServer, type Server } from 'node:net';
import { sh } from './sh.ts';

const GUEST_NIC = 'eth0';
const GUEST_ADDRESS = '10.0.2.15/24';
const FORWARDED = '10.0.2.100';
/** The bridge's address, on the agents' segment. */
const RELAY_ADDRESS = '10.99.0.1';
const PORTS = { http: 8080, mqtt: 1883 } as const;

export interface CloudLink {
  /** The API as the agents and the driver reach it. */
  url: string;
  token: string;
  close(): void;
}

/**
 * The relays' last events (opened, which side ended first and when, errors), printed with a failed
 * API call: a call that failed on the way (fetch failed) says whether the relay, the forwarder
 * behind it (qemu's guestfwd, one socat per connection) or the host's cloud ended it.
 */
const relayLog: string[] = [];
const note = (line: string) => (relayLog.push(`${new Date().toISOString().slice(11, 23)} ${line}`), relayLog.length > 40 && relayLog.shift());
let relayed = 0;

/** Relay `address:port` to the forwarded host port, one connection for each. */
function relay(port: number): Promise<Server> {
  const server = createServer((inbound) => {
    const id = `${port}#${++relayed} (client port ${inbound.remotePort})`;
    const t0 = Date.now();
    const outbound = connect({ host: FORWARDED, port });
    note(`${id} opened`);
    inbound.pipe(outbound).pipe(inbound);
    let ended = false;
    const end = (side: string) => (e?: Error) => {
      if (!ended)
        note(
          `${id} ${side} ${e ? `error ${(e as NodeJS.ErrnoException).code ?? e.message}` : 'closed'} first after ${Date.now() - t0} ms (in ${inbound.bytesRead} B, out ${outbound.bytesRead} B)`,
        );
      ended = true;
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end('client side')).on('close', () => end('client side')());
    outbound.on('error', end('forwarder side')).on('close', () => end('forwarder side')());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, RELAY_ADDRESS, () => resolve(server));
  });
}

/** Bring up the guest's NIC and the relays; `token` is the cloud's admin token the host passed in. */
export async function openCloudLink(token: string): Promise<CloudLink> {
  await sh('ip', 'link', 'set', GUEST_NIC, 'up');
  await sh('ip', 'addr', 'add', GUEST_ADDRESS, 'dev', GUEST_NIC);
  await sh('ip', 'addr', 'add', `${RELAY_ADDRESS}/24`, 'dev', 'labbr0');
  const servers = [await relay(PORTS.http), await relay(PORTS.mqtt)];
  const link = { url: `http://${RELAY_ADDRESS}:${PORTS.http}`, token, close: () => servers.forEach((s) => s.close()) };
  // Through api(): a plain fetch left its connection pooled, and the next call went out on it.
  const res = await api(link, 'GET', '/healthz');
  if (res.status !== 200) throw new Error(`the host's cloud answered /healthz with ${res.status}`);
  return link;
}

let lastCall = 0;

/** An error and its causes, one after the other (fetch's own message is only 'fetch failed'). */
function causes(e: unknown): string {
  const out: string[] = [];
  for (let c = e; c instanceof Error && out.length < 5; c = c.cause)
    out.push(`${c.name}: ${c.message}${(c as NodeJS.ErrnoException).code ? ` (${(c as NodeJS.ErrnoException).code})` : ''}`);
  return out.join(' <- ');
}

/** One API call with the admin token; the body is YAML text or JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read field by field and checked where used
export async function api(link: CloudLink, method: string, path: string, body?: { yaml?: string; json?: unknown }): Promise<{ status: number; json: any }> {
  // One connection per call (`connection: close`), through the relay and one socat of its own.
  // Pooled, a call after a pause of 3–5 s can go out on a kept-alive connection the cloud has just
  // closed: fetch keeps one 3 s (the cloud's `Keep-Alive: timeout=5` less its 2 s margin) by a timer
  // that runs late in a starved guest, and the cloud's FIN is still on its way through socat, slirp
  // and the relay. That fails as 'fetch failed' with no trace in the cloud's log, as the PUT of
  // revision 2 did twice: the call after such a pause (the most likely cause; not caught in the act,
  // the failure prints its causes and the relay's log now).
  const headers: Record<string, string> = { authorization: `Bearer ${link.token}`, connection: 'close' };
  let payload: string | undefined;
  if (body?.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    payload = body.yaml;
  } else if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  }
  const t0 = Date.now();
  const res = await fetch(`${link.url}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(60_000) }).catch((e: Error) => {
    throw new Error(
      `${method} ${path} failed after ${Date.now() - t0} ms, ${t0 - lastCall} ms after the previous call: ${causes(e)}\nrelay: ${relayLog.join('\n  ')}`,
    );
  });
  lastCall = Date.now();
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: res.status, json };
}
