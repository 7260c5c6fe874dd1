/** Scenario 6 (keepalived and our agent in one VRRP group) and the 1,000-service apply figure. */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Client } from './client-rpc.ts';
import { check, type Harness } from './harness.ts';
import { realServers, serviceCount } from './ipvs.ts';
import { asNode, type Lab } from './lab.ts';
import { START_MS } from './scenarios-dr.ts';
import { daemon, sleep, waitFor, type Daemon } from './sh.ts';
import { addHost, NET, setLink } from './topology.ts';

const KVIP = '10.99.0.80';

/** keepalived in a namespace, one instance per namespace (LABS.md's command line without -P: IPVS too). */
function keepalived(ns: string, conf: string, extra: string[] = ['-l', '-D']): Daemon {
  const dir = `/run/lab/ka-${ns}`;
  mkdirSync(dir, { recursive: true });
  return asNode(
    daemon(`keepalived-${ns}`, ns, [
      'keepalived',
      '-n',
      ...extra,
      '-f',
      conf,
      '-i',
      ns,
      '-p',
      `${dir}/ka.pid`,
      '-r',
      `${dir}/vrrp.pid`,
      '-c',
      `${dir}/chk.pid`,
      '-b',
      `${dir}/bfd.pid`,
    ]),
  );
}

/** Scenario 6: keepalived on k1, our agent on k2; each survives the other's crash under traffic. */
export async function keepalivedMixed(h: Harness, lab: Lab, client: Client): Promise<void> {
  // The real servers' agents put the VIP on lo (already running when scenario 1 ran).
  for (const rs of ['rs1', 'rs2']) if (!lab.agents.has(rs)) lab.startAgent(rs);
  lab.startAgent('k2');
  for (const rs of ['rs1', 'rs2']) check(await waitFor(() => lab.holdsOn(rs, 'lo', KVIP), START_MS), `${rs}: no ${KVIP} on lo\n${lab.tail(rs)}`);
  let ka = keepalived('k1', '/lab/keepalived-k1.conf');
  lab.others.push(ka);
  const first = await lab.waitMaster('k1', KVIP, ['k1', 'k2'], 40_000);
  check(first !== undefined, `keepalived on k1 did not become the only master\n${ka.output().slice(-800)}\nk2: ${lab.tail('k2')}`);
  const ipvsBoth = await waitFor(async () => (await realServers('k1', KVIP, 80)).size === 2 && (await realServers('k2', KVIP, 80)).size === 2, START_MS);
  check(ipvsBoth, `IPVS for ${KVIP}:80 not on both k1 (keepalived) and k2 (agent)\n${lab.tail('k2')}`);
  const viaKeepalived = await client.tally(`http://${KVIP}/`, 10, NET.client.dr);
  h.say(`through keepalived (k1): ${JSON.stringify(viaKeepalived.counts)} failed ${viaKeepalived.fail}`);
  check(viaKeepalived.fail === 0 && (viaKeepalived.counts.rs1 ?? 0) > 0 && (viaKeepalived.counts.rs2 ?? 0) > 0, 'k1 does not serve both real servers');

  // keepalived → agent: crash k1 (every process stopped, then killed; link down).
  await client.loopStart('k', `http://${KVIP}/`, 50, NET.client.dr, 500);
  await sleep(1000);
  await lab.crashNamespace('k1');
  await setLink('k1', false);
  const toAgent = await lab.waitMaster('k2', KVIP, ['k2'], 20_000);
  await sleep(3000);
  const loop1 = await client.loopStop('k');
  h.figure('keepalived→agent: agent holds the VIP after', toAgent ?? -1, 'ms');
  h.figure('keepalived→agent: longest gap', loop1.longestGapMs, 'ms');
  check(toAgent !== undefined, `our agent on k2 never took ${KVIP} from the crashed keepalived\n${lab.tail('k2')}`);
  await waitFor(async () => (await client.get(`http://${KVIP}/`, NET.client.dr, 2000)).ok, 20_000, 200);
  const viaAgent = await client.tally(`http://${KVIP}/`, 10, NET.client.dr);
  h.say(`through our agent (k2): ${JSON.stringify(viaAgent.counts)} failed ${viaAgent.fail} ${viaAgent.errors.join('; ')}`);
  check(viaAgent.fail === 0 && (viaAgent.counts.rs1 ?? 0) > 0 && (viaAgent.counts.rs2 ?? 0) > 0, 'k2 does not serve both real servers');

  // agent → keepalived: keepalived returns on k1 as BACKUP (priority 80 < 90), then our agent
  // on k2 crashes (SIGKILL, link down) and keepalived must take the VIP.
  await setLink('k1', true);
  await lab.crashNamespace('k1');
  ka = keepalived('k1', '/lab/keepalived-k1-backup.conf');
  lab.others.push(ka);
  const kaBackup = await waitFor(async () => /Entering BACKUP STATE/.test(ka.output()) || !(await lab.holds('k1', KVIP)), 30_000, 300);
  await sleep(4000);
  check(
    kaBackup && (await lab.holds('k2', KVIP)) && !(await lab.holds('k1', KVIP)),
    `our agent did not stay MASTER over keepalived as BACKUP\n${lab.tail('k2')}`,
  );
  await client.loopStart('k', `http://${KVIP}/`, 50, NET.client.dr, 500);
  await sleep(1000);
  lab.agents.get('k2')!.kill('SIGKILL');
  await setLink('k2', false);
  const toKa = await lab.waitMaster('k1', KVIP, ['k1'], 20_000);
  await sleep(3000);
  const loop2 = await client.loopStop('k');
  h.figure('agent→keepalived: keepalived holds the VIP after', toKa ?? -1, 'ms');
  h.figure('agent→keepalived: longest gap', loop2.longestGapMs, 'ms');
  check(toKa !== undefined, `keepalived on k1 did not take ${KVIP} from our crashed agent\n${ka.output().slice(-800)}`);
  await waitFor(async () => (await client.get(`http://${KVIP}/`, NET.client.dr, 2000)).ok, 20_000, 200);
  const back = await client.tally(`http://${KVIP}/`, 10, NET.client.dr);
  h.say(`through keepalived (k1) after our agent crashed: ${JSON.stringify(back.counts)} failed ${back.fail}`);
  check(back.fail === 0 && (back.counts.rs1 ?? 0) > 0 && (back.counts.rs2 ?? 0) > 0, `k1 does not serve after taking over: ${JSON.stringify(back)}`);
  await setLink('k2', true);
  // Done with k1's keepalived (a graceful stop: it takes its VIP and services away). Left running,
  // it outlived this scenario: `ipv6` uses k1 as a scratch director, and its health checkers then
  // re-added a real server to a service that was gone every check (thousands of failing IPVS
  // calls and log lines), CPU the later scenarios' agents needed in the emulated guest.
  await ka.stop(8000);
  lab.others.splice(lab.others.indexOf(ka), 1);
}

const N = 1000;
const vipOf = (i: number) => `10.66.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** Time from process start until `ns` has `N` IPVS services. */
async function timeToServices(ns: string, start: () => Daemon, h: Harness, label: string): Promise<number> {
  const t0 = Date.now();
  const d = start();
  const done = await waitFor(async () => (await serviceCount(ns)) >= N, 400_000, 250);
  const ms = Date.now() - t0;
  d.kill('SIGKILL');
  check(done, `${label}: ${await serviceCount(ns)} of ${N} services after ${ms} ms\n${d.output().slice(-600)}`);
  return ms;
}

/** 1,000 services × 2 real servers applied by our reconciler next to keepalived loading the same. */
export async function applyThousand(h: Harness, lab: Lab, withAgent: boolean): Promise<void> {
  await addHost('b1', 'director', ['10.99.0.41/24']);
  await addHost('b2', 'director', ['10.99.0.42/24']);
  const services = Array.from({ length: N }, (_, i) => ({
    name: `s${i}`,
    vip: vipOf(i),
    port: 80,
    scheduler: 'rr',
    forwarding: 'dr',
    realServers: [{ address: NET.rs1 }, { address: NET.rs2 }],
  }));
  writeFileSync(
    '/run/lab/big.json',
    JSON.stringify({
      apiVersion: 'lvsfleet/v1',
      kind: 'Site',
      metadata: { name: 'bench' },
      spec: { nodes: [{ name: 'b1', role: 'director', address: '10.99.0.41', interface: 'eth0' }], services, allowMassDelete: true },
    }),
  );
  const conf = services
    .map(
      (s) =>
        `virtual_server ${s.vip} 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n` +
        `  real_server ${NET.rs1} 80 {\n    weight 1\n  }\n  real_server ${NET.rs2} 80 {\n    weight 1\n  }\n}\n`,
    )
    .join('');
  writeFileSync('/run/lab/big-keepalived.conf', `global_defs {\n  router_id b2\n}\n${conf}`);
  const kaMs = await timeToServices('b2', () => keepalived('b2', '/run/lab/big-keepalived.conf', ['-C', '-G']), h, 'keepalived');
  h.figure('keepalived: 1000 services loaded in', kaMs, 'ms (TCG, process start to ipvsadm -Sn)');
  if (!withAgent) return;
  const agentMs = await timeToServices('b1', () => lab.startAgent('b1', '/run/lab/big.json'), h, 'agent');
  h.figure('agent: 1000 services applied in', agentMs, 'ms (TCG, process start to ipvsadm -Sn)');
  h.say(`agent b1's log:\n${lab.tail('b1', 12)}`);
}
