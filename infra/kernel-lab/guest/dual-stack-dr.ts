/**
 * The dual-stack DR check both IPv6 scenarios make (`ipv6` by hand on k1, `dual-stack` with our
 * agents on e1): 10/10 requests over each family reaching both real servers, and a 2 MB reply over
 * IPv6 that bypasses the director (DR: the director sees the request side only).
 */
import type { Client } from './client-rpc.ts';
import { check, type Harness } from './harness.ts';
import { connections } from './ipvs.ts';
import { ifaceBytes, NET } from './topology.ts';

export interface DualStackDr {
  /** The service's IPv4 and IPv6 VIPs. */
  vip4: string;
  vip6: string;
  /** The client's IPv6 source address. */
  client6: string;
  /** The director that holds both VIPs. */
  director: string;
  /** The two real servers' names, as their replies say them. */
  realServers: readonly [string, string];
}

export async function checkDualStackDr(h: Harness, client: Client, o: DualStackDr): Promise<void> {
  const v4 = await client.tally(`http://${o.vip4}/`, 10, NET.client.dr);
  const v6 = await client.tally(`http://[${o.vip6}]/`, 10, o.client6);
  h.say(`DR over IPv4: ${JSON.stringify(v4)}; over IPv6: ${JSON.stringify(v6)}`);
  check(v4.fail === 0 && v6.fail === 0, `DR requests failed: IPv4 ${v4.fail} (${v4.errors.join('; ')}), IPv6 ${v6.fail} (${v6.errors.join('; ')})`);
  const [a, b] = o.realServers;
  for (const [fam, t] of [
    ['IPv4', v4],
    ['IPv6', v6],
  ] as const)
    check((t.counts[a] ?? 0) >= 3 && (t.counts[b] ?? 0) >= 3, `${fam} rr did not reach both real servers: ${JSON.stringify(t.counts)}`);

  const size = 2_000_000;
  const [da, ca] = [await ifaceBytes(o.director), await ifaceBytes('c')];
  const big = await client.get(`http://[${o.vip6}]/big?n=${size}`, o.client6, 20_000);
  const [db, cb] = [await ifaceBytes(o.director), await ifaceBytes('c')];
  h.figure('IPv6 reply bytes to client', cb.rx - ca.rx);
  h.figure(`bytes received by ${o.director} meanwhile`, db.rx - da.rx);
  check(big.ok && big.bytes === size, `big GET over IPv6 failed: ${JSON.stringify(big).slice(0, 200)}`);
  check(db.rx - da.rx < size / 10, `${o.director} received ${db.rx - da.rx} bytes: the IPv6 reply went through the director`);
  const conns = (await connections(o.director)).filter((c) => c.virtual === `[${o.vip6}]:80`);
  check(conns.length > 0, `${o.director} has no IPv6 connection in ipvsadm -Lnc: the traffic did not go through IPVS`);
}
