/** Scenarios 1 and 2: the seeds' DR setup driven by our agents, and health checks. */
import type { Client } from './client-rpc.ts';
import { check, type Harness } from './harness.ts';
import { connections, connectionsListed, realServers, type Conn } from './ipvs.ts';
import type { Lab } from './lab.ts';
import { waitFor } from './sh.ts';
import { ifaceBytes, NET } from './topology.ts';

const VIP = '10.99.0.50';
const CLIENT = NET.client.dr;
/** How long an agent may take to start under TCG (a ceiling: under host load 18 five agents took over 180 s). */
export const START_MS = 300_000;

/** |count - expected| within tolerance (a fraction of the total). */
function near(count: number, expected: number, total: number, tolerance: number): boolean {
  return Math.abs(count - expected) <= Math.max(1, tolerance * total);
}

/** Agents up on d1/d2/rs1/rs2/rs3; d1 holds the VIPs; d1 has both real servers in `web`. */
export async function startDrSite(h: Harness, lab: Lab): Promise<void> {
  const t0 = Date.now();
  const nodes = ['d1', 'd2', 'rs1', 'rs2', 'rs3'];
  for (const n of nodes) lab.startAgent(n);
  // Generous: five agents load a 2 MB bundle at once on two emulated CPUs (≈5–15 s each alone).
  const applied = await waitFor(async () => nodes.every((n) => /apply revision \d+ succeeded/.test(lab.agents.get(n)!.output())), START_MS, 500);
  check(applied, `not every agent applied revision 1 within ${START_MS} ms`);
  h.figure('all five agents applied revision 1 after', Date.now() - t0, 'ms');
  const tookMs = await lab.waitMaster('d1', VIP, ['d1', 'd2'], START_MS);
  check(tookMs !== undefined, `d1 never became the only holder of ${VIP}`);
  h.figure('d1 sole MASTER after', Date.now() - t0, 'ms');
  // Start-up on loaded emulated CPUs can delay adverts; measure only once the pair is steady.
  const steady = await waitFor(
    async () => {
      for (let i = 0; i < 10; i++) {
        if (!(await lab.holds('d1', VIP)) || (await lab.holds('d2', VIP))) return false;
        await new Promise((r) => setTimeout(r, 500));
      }
      return true;
    },
    60_000,
    0,
  );
  check(steady, 'd1/d2 did not settle with d1 the only holder of the VIP for 5 s');
  const both = await waitFor(async () => {
    const rs = await realServers('d1', VIP, 80);
    return rs.has(`${NET.rs1}:80`) && rs.has(`${NET.rs2}:80`) ? rs : undefined;
  }, 30_000); // revision 1 is applied by now; real servers without alpha start up (keepalived)
  check(both, `d1's IPVS never listed rs1 and rs2 for ${VIP}:80\nd1: ${lab.tail('d1')}`);
  // The real servers' side of DR, done by their agents: VIP on lo, ARP kept quiet.
  for (const rs of ['rs1', 'rs2']) {
    const ready = await waitFor(async () => {
      const lo = await lab.holdsOn(rs, 'lo', VIP);
      const ignore = (await lab.sysctl(rs, 'net.ipv4.conf.all.arp_ignore')) === '1';
      const announce = (await lab.sysctl(rs, 'net.ipv4.conf.all.arp_announce')) === '2';
      return lo && ignore && announce;
    }, START_MS);
    check(ready, `${rs}: agent did not put ${VIP} on lo with arp_ignore=1/arp_announce=2\n${lab.tail(rs)}`);
  }
}

/** Scenario 1: rr even, wrr by weight, replies bypass the director. */
export async function drTraffic(h: Harness, lab: Lab, client: Client): Promise<void> {
  await startDrSite(h, lab);
  const rr = await client.tally(`http://${VIP}/`, 20, CLIENT);
  h.say(`rr 20 requests: ${JSON.stringify(rr.counts)} failed ${rr.fail}`);
  check(rr.fail === 0, `rr: ${rr.fail} requests failed (${rr.errors.join('; ')})`);
  check(near(rr.counts.rs1 ?? 0, 10, 20, 0.1) && near(rr.counts.rs2 ?? 0, 10, 20, 0.1), `rr not even: ${JSON.stringify(rr.counts)}`);

  const wrr = await client.tally(`http://${VIP}:8080/`, 40, CLIENT);
  h.say(`wrr 3:1, 40 requests: ${JSON.stringify(wrr.counts)} failed ${wrr.fail}`);
  check(wrr.fail === 0, `wrr: ${wrr.fail} requests failed`);
  check(near(wrr.counts.rs1 ?? 0, 30, 40, 0.15) && near(wrr.counts.rs2 ?? 0, 10, 40, 0.15), `wrr not 3:1: ${JSON.stringify(wrr.counts)}`);

  // Replies bypass the director: fetch 2 MB through the VIP and compare byte counters. In DR
  // the request and its ACKs cross d1; the 2 MB answer must reach the client without d1's
  // eth0 ever receiving it (a reply through d1 would add ≥ 2 MB to d1's rx counter).
  const size = 2_000_000;
  const [d1a, ca] = [await ifaceBytes('d1'), await ifaceBytes('c')];
  const big = await client.get(`http://${VIP}/big?n=${size}`, CLIENT, 20_000);
  const [d1b, cb] = [await ifaceBytes('d1'), await ifaceBytes('c')];
  const conns = (await connections('d1')).filter((c) => c.virtual === `${VIP}:80` && c.source.startsWith(`${CLIENT}:`));
  h.figure('reply bytes to client', cb.rx - ca.rx);
  h.figure('bytes received by d1 meanwhile', d1b.rx - d1a.rx);
  h.say(`d1 ipvsadm -Lnc for ${VIP}:80: ${conns.length} entries, e.g. ${JSON.stringify(conns[0])}`);
  check(big.ok && big.bytes === size, `big GET failed: ${JSON.stringify(big).slice(0, 200)}`);
  check(cb.rx - ca.rx >= size, 'client received less than the body');
  check(d1b.rx - d1a.rx < size / 10, `d1 received ${d1b.rx - d1a.rx} bytes: the reply went through the director`);
  check(conns.length > 0, `d1's IPVS has no connection from the client: traffic did not go through IPVS`);
  // The scenarios read the connection table from /proc/net/ip_vs_conn: what ipvsadm -Lnc shows.
  // Entries come and go between two reads (and a state may move on), so the ones in both must
  // have the same destination and most must be in both.
  const [viaProc, listed] = [await connections('d1'), await connectionsListed('d1')];
  const key = (c: Conn) => `${c.proto} ${c.source} ${c.virtual}`;
  const byLnc = new Map(listed.map((c) => [key(c), c]));
  const both = viaProc.filter((c) => byLnc.has(key(c)));
  const unlike = both.filter((c) => byLnc.get(key(c))!.dest !== c.dest || !/^[A-Z_]+$/.test(c.state));
  h.say(`d1's connections: ${viaProc.length} read from /proc, ${listed.length} by ipvsadm -Lnc, ${both.length} in both`);
  check(unlike.length === 0, `/proc/net/ip_vs_conn and ipvsadm -Lnc differ: ${JSON.stringify(unlike.slice(0, 3))}`);
  check(both.length > 0 && both.length >= 0.9 * Math.min(viaProc.length, listed.length), 'the /proc reading and ipvsadm -Lnc share too few connections');
}

/** Scenario 2: a real server that stops answering leaves IPVS in time and comes back; sorry server. */
export async function health(h: Harness, lab: Lab, client: Client): Promise<void> {
  // interval 2 s × retries 1 + timeout 3 s (site.yaml) = 5 s; TCG gets 6 s of margin.
  const boundMs = 2000 * 1 + 3000;
  const marginMs = 6000;
  const has = async (rs: string) => (await realServers('d1', VIP, 80)).has(`${rs}:80`);
  check((await has(NET.rs1)) && (await has(NET.rs2)), 'both real servers must be in IPVS first');
  await lab.stopServer('rs1');
  const t0 = Date.now();
  const gone = await waitFor(async () => !(await has(NET.rs1)), boundMs + marginMs + 10_000, 100);
  const leftMs = Date.now() - t0;
  h.figure('rs1 left IPVS after', leftMs, 'ms');
  check(gone, `rs1 still in IPVS ${leftMs} ms after its server stopped\n${lab.tail('d1')}`);
  check(leftMs <= boundMs + marginMs, `rs1 left after ${leftMs} ms, bound ${boundMs} ms + ${marginMs} ms margin`);
  const only2 = await client.tally(`http://${VIP}/`, 10, CLIENT);
  h.say(`with rs1 down: ${JSON.stringify(only2.counts)} failed ${only2.fail}`);
  check(only2.fail === 0 && only2.counts.rs2 === 10, `traffic not all on rs2: ${JSON.stringify(only2)}`);

  await lab.startServer('rs1');
  check(await lab.serverUp('rs1', 120_000), 'rs1 server did not restart');
  const t1 = Date.now();
  const back = await waitFor(() => has(NET.rs1), 60_000, 100);
  h.figure('rs1 back in IPVS after its server answered', Date.now() - t1, 'ms');
  check(back, `rs1 did not return\n${lab.tail('d1')}`);
  const again = await client.tally(`http://${VIP}/`, 10, CLIENT);
  check(again.fail === 0 && (again.counts.rs1 ?? 0) > 0 && (again.counts.rs2 ?? 0) > 0, `not both after return: ${JSON.stringify(again)}`);

  await lab.stopServer('rs1');
  await lab.stopServer('rs2');
  const sorry = await waitFor(
    async () => {
      const g = await client.get(`http://${VIP}/`, CLIENT, 2000);
      return g.ok && g.body.startsWith('sorry') ? g : undefined;
    },
    boundMs + marginMs + 10_000,
    300,
  );
  h.say(`all real servers down: ${JSON.stringify(sorry)} ; d1 web: ${JSON.stringify([...(await realServers('d1', VIP, 80))])}`);
  check(sorry, `the sorry server never answered with every real server down\n${lab.tail('d1')}`);
  await lab.startServer('rs1');
  await lab.startServer('rs2');
  const restored = await waitFor(async () => (await has(NET.rs1)) && (await has(NET.rs2)), 180_000, 300);
  check(restored, 'real servers did not return after the sorry-server test');
}
