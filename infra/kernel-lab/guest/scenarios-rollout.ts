/**
 * rollout: a staged rollout decided by the real cloud (`lvsfleet serve` on the host, see
 * cloud-link.ts). The DR site's agents switch from standalone to cloud mode (enroll + run, same
 * state dirs: they adopt what the kernel holds), then a bad revision — web-nat's real servers on a
 * port nothing listens on — goes out under `spec.rollout`: the BACKUP director d2 gets it first, its
 * checks find both real servers down, and the cloud rolls back before the MASTER d1 is touched,
 * while the client keeps requesting through the VIPs.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parse, stringify } from 'yaml';
import { api, type CloudLink } from './cloud-link.ts';
import type { Client, LoopResult } from './client-rpc.ts';
import { cpuReport, sampleCpu } from './cpu-usage.ts';
import { check, type Harness } from './harness.ts';
import { realServers } from './ipvs.ts';
import { AGENT_BUNDLE, SPEC, type Lab } from './lab.ts';
import { checkTraffic, holdOn, reportTraffic, startTraffic, steady } from './scenarios-ops.ts';
import { nsh, sleep, waitFor } from './sh.ts';
import { NET } from './topology.ts';

const SITE = 'kernel-lab';
const NAT_VIP = '10.99.0.60';
/** Agents switched to cloud mode; d1 last and alone, so the pair's MASTER is down only once. */
const NODES = ['d2', 'rs1', 'rs2', 'rs3', 'd1'];
/** A port no lab real server listens on (rs-server and rs.c: 80, 8000, 8080, 9000). */
const BAD_PORT = 8001;
/** Long enough for d2's checks (interval 2 s, timeout 3 s) and its report to reach the cloud under TCG. */
const ROLLOUT = { bake: '90s', stageTimeout: '4m' };

/** The running site spec with a rollout policy, optionally with web-nat's real servers moved to `port`. */
async function cloudSpec(port: number | null): Promise<string> {
  const site = parse(await readFile(SPEC, 'utf8'));
  site.spec.rollout = ROLLOUT;
  if (port !== null) for (const rs of site.spec.services.find((s: { name: string }) => s.name === 'web-nat').realServers) rs.port = port;
  return stringify(site);
}

/** `addr:port` of web-nat's real servers in `ns`'s IPVS. */
async function natServers(ns: string): Promise<string[]> {
  return [...(await realServers(ns, NAT_VIP, 80)).keys()].sort();
}

/**
 * Where web-nat's path stands, printed when its client lost requests (a full run once lost all of
 * them after the agents' restarts into cloud mode, SYNs unanswered): who holds the VIP and the NAT
 * gateway, the MAC each real server sends its replies to, and the directors' entries for the client.
 */
async function explainNat(h: Harness, lab: Lab): Promise<void> {
  const mac = async (ns: string) => (await nsh(ns, 'cat', '/sys/class/net/eth0/address').catch(() => '?')).trim();
  for (const d of ['d1', 'd2'])
    h.say(
      `${d} (${await mac(d)}): VIP ${await lab.holds(d, NAT_VIP)}, gateway ${await lab.holds(d, NET.natGateway)}; entries from ${NET.client.nat}: ${
        (await nsh(d, 'ipvsadm', '-Lnc').catch((e: Error) => e.message))
          .split('\n')
          .filter((l) => l.includes(NET.client.nat))
          .join(' | ') || 'none'
      }`,
    );
  for (const rs of ['rs1', 'rs2'])
    h.say(
      `${rs}: ${(await nsh(rs, 'ip', 'neigh', 'show', NET.natGateway).catch((e: Error) => e.message)).trim() || `no neighbour entry for ${NET.natGateway}`}`,
    );
  // The replies' way back through the MASTER: forwarding on, no reverse-path filter, a route to
  // the client, and whether it forwarded anything at all (Ip: ForwDatagrams).
  const one = async (ns: string, ...argv: string[]) => (await nsh(ns, ...argv).catch((e: Error) => e.message)).trim().replace(/\n/g, ' ');
  for (const d of ['d1', 'd2']) {
    const snmp = (await nsh(d, 'cat', '/proc/net/snmp').catch(() => '')).split('\n').filter((l) => l.startsWith('Ip:'));
    const ip = snmp.length === 2 ? Object.fromEntries(snmp[0].split(/\s+/).map((k, i) => [k, snmp[1].split(/\s+/)[i]])) : {};
    h.say(
      `${d}: ${await one(d, 'sysctl', 'net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.eth0.rp_filter')}; route to the client: ${await one(d, 'ip', 'route', 'get', NET.client.nat)}; Ip ForwDatagrams ${ip.ForwDatagrams ?? '?'} InDiscards ${ip.InDiscards ?? '?'} OutNoRoutes ${ip.OutNoRoutes ?? '?'}; nft: ${await one(d, 'nft', 'list', 'tables')}`,
    );
  }
  for (const rs of ['rs1', 'rs2']) h.say(`${rs}: route to the client: ${await one(rs, 'ip', 'route', 'get', NET.client.nat)}`);
}

/**
 * Enroll every DR node with the cloud and restart its agent in cloud mode on revision 1 (the same
 * configs). The BACKUP and the real servers switch together (one at a time took ~11 s each under
 * TCG, most of it waiting), the MASTER d1 alone after them.
 */
async function switchToCloud(h: Harness, lab: Lab, link: CloudLink): Promise<void> {
  const put = await api(link, 'PUT', `/v1/sites/${SITE}/spec`, { yaml: await cloudSpec(null) });
  check(put.status === 200 && put.json.revision === 1, `PUT spec (revision 1) answered ${put.status}: ${JSON.stringify(put.json)}`);
  const t0 = Date.now();
  const enroll = async (node: string): Promise<string> => {
    const tok = await api(link, 'POST', `/v1/sites/${SITE}/nodes/${node}/enrollment`, { json: {} });
    check(tok.status === 200, `enrollment token for ${node}: ${tok.status} ${JSON.stringify(tok.json)}`);
    const config = `/run/lab/cloud-${node}.json`;
    await nsh(node, 'node', AGENT_BUNDLE, 'enroll', '--url', link.url, '--token', tok.json.token, '--config', config);
    return config;
  };
  // Every node enrolls at once: enrolling only writes the new config file, beside the standalone
  // agent that keeps running. Only the restarts wait: d1, the MASTER, goes last (d1's enrolment
  // after the others' restarts took 6–7 s of the switch under TCG).
  const configs = new Map(NODES.map((n) => [n, enroll(n)]));
  // Awaited below; until then a failed enrolment must not end the process as an unhandled rejection.
  for (const c of configs.values()) c.catch(() => {});
  const switchOne = async (node: string) => {
    const config = await configs.get(node)!;
    await lab.stopAgent(node);
    const agent = lab.startCloudAgent(node, config);
    const applied = await waitFor(async () => /apply revision 1 succeeded/.test(agent.output()), 180_000, 500);
    check(applied && agent.child.exitCode === null, `${node}'s cloud-mode agent did not apply revision 1\n${lab.tail(node)}`);
  };
  await Promise.all(NODES.filter((n) => n !== 'd1').map(switchOne));
  await switchOne('d1');
  h.figure('five agents switched to cloud mode in', Date.now() - t0, 'ms');
  await steady(lab);
  // The cloud stages by what the nodes report: wait until it sees all five on revision 1.
  const seen = await waitFor(
    async () => {
      const st = await api(link, 'GET', `/v1/sites/${SITE}/status`);
      const nodes = (st.json?.nodes ?? []) as { name: string; appliedRevision: number | null }[];
      return NODES.every((n) => nodes.find((x) => x.name === n)?.appliedRevision === 1) ? nodes : undefined;
    },
    120_000,
    1000,
  );
  check(seen, `the cloud does not see the five nodes on revision 1: ${JSON.stringify((await api(link, 'GET', `/v1/sites/${SITE}/status`)).json?.nodes)}`);
}

/** Scenario rollout (see the file's comment). */
export async function rollout(h: Harness, lab: Lab, client: Client, link: CloudLink): Promise<void> {
  await switchToCloud(h, lab, link);
  const good = await natServers('d1');
  check(good.length === 2 && good.every((a) => a.endsWith(':8000')), `d1's web-nat is not rs1/rs2 on 8000: ${good.join(' ')}`);
  const held = await holdOn(client, 'ro', null);
  // Made before the traffic starts: parsing and writing the site's YAML took the driver ~3 s of
  // emulated CPU (its profile), taken from the client whose rate the window counts.
  const badSpec = await cloudSpec(BAD_PORT);
  // The scenario's own CPU report spans the switch to cloud mode too: this one, the traffic's window.
  const cpu0 = sampleCpu();
  await startTraffic(client, 'ro');
  await startTraffic(client, 'ro-nat', `http://${NAT_VIP}/`, NET.client.nat, 2);
  let loops: LoopResult[];
  const d1Saw: string[][] = [];
  try {
    await sleep(1500);
    const t0 = Date.now();
    const put = await api(link, 'PUT', `/v1/sites/${SITE}/spec`, { yaml: badSpec });
    check(
      put.status === 200 && put.json.revision === 2 && put.json.staged === true,
      `PUT spec (revision 2) answered ${put.status}: ${JSON.stringify(put.json)}`,
    );
    const view = (await api(link, 'GET', `/v1/sites/${SITE}/rollout`)).json;
    h.say(`revision 2 staged: ${JSON.stringify(view.current?.stages)}`);
    const stages = (view.current?.stages ?? []) as { name: string; nodes: string[] }[];
    check(
      stages.find((s) => s.name === 'backups')?.nodes.includes('d2') && stages.find((s) => s.name === 'masters')?.nodes.includes('d1'),
      `the cloud did not stage d2 before the MASTER d1: ${JSON.stringify(stages)}`,
    );

    let d2Got: string[] = [];
    const ended = await waitFor(
      async () => {
        // What d1 (the MASTER) and d2 hold for web-nat while the rollout runs.
        d1Saw.push(await natServers('d1'));
        const d2Now = await natServers('d2');
        if (d2Now.some((a) => a.endsWith(`:${BAD_PORT}`))) d2Got = d2Now;
        const r = (await api(link, 'GET', `/v1/sites/${SITE}/rollout`)).json;
        const last = r.current ?? r.history?.[0];
        return last?.revision === 2 && !['pending', 'running', 'paused'].includes(last.state) ? last : undefined;
      },
      360_000,
      // Two ipvsadm processes and an API call a look: every 500 ms took the client's CPU.
      1000,
    );
    h.figure('rollout of revision 2 ended after', Date.now() - t0, 'ms');
    h.say(`rollout: ${JSON.stringify(ended)}`);
    check(ended, `the rollout of revision 2 did not end\nd2: ${lab.tail('d2')}`);
    check(ended.state === 'rolled_back', `the rollout of revision 2 ended ${ended.state}, not rolled back: ${ended.reason}`);
    check(!(ended.released as string[]).includes('d1'), `the MASTER d1 was released: ${JSON.stringify(ended.released)}`);
    h.say(`d2's web-nat while it ran revision 2: ${d2Got.join(' ') || '(no real server on the bad port reached IPVS: checks failed first)'}`);
    check(/received revision 2/.test(lab.tail('d2', 400)), `d2 never received revision 2\n${lab.tail('d2')}`);

    // d2 gets the previous configuration back (as the rollback revision); d1 never heard of revision 2.
    const rb = ended.rollbackRevision as number;
    const restored = await waitFor(async () => new RegExp(`apply revision ${rb} succeeded`).test(lab.tail('d2', 400)), 120_000, 500);
    check(restored, `d2 did not apply the rollback revision ${rb}\n${lab.tail('d2')}`);
    const d2Back = await waitFor(async () => {
      const n = await natServers('d2');
      return n.length === 2 && n.every((a) => a.endsWith(':8000')) ? n : undefined;
    }, 60_000);
    check(d2Back, `d2's web-nat is not back on 8000: ${(await natServers('d2')).join(' ')}`);
    const d1Log = lab.tail('d1', 400);
    check(!/received revision [2-9]/.test(d1Log), `d1 received a revision after 1:\n${lab.tail('d1')}`);
    const d1Changed = d1Saw.filter((l) => JSON.stringify(l) !== JSON.stringify(good));
    h.say(`d1's web-nat sampled ${d1Saw.length} times during the rollout: ${d1Changed.length} differed from ${good.join(' ')}`);
    check(d1Changed.length === 0, `d1's IPVS changed during the rollout: ${JSON.stringify(d1Changed[0])}`);
    const ping = await client.holdPing('ro', 'after the rollback', 5000);
    check(ping.ok && ping.reply!.startsWith(`${held.server} `), `the long-lived connection broke: ${JSON.stringify(ping)}`);
    h.figure('long-lived connection', 'survived');
  } finally {
    loops = [await client.loopStop('ro'), await client.loopStop('ro-nat')];
    h.say(`guest CPU while the traffic ran: ${cpuReport(cpu0, sampleCpu(), availableParallelism())}`);
    reportTraffic(h, loops[0], 'web');
    reportTraffic(h, loops[1], 'web-nat');
    if (loops[1].fail) await explainNat(h, lab).catch((e: Error) => h.say(`web-nat diagnostics failed: ${e.message}`));
    await client.holdClose('ro');
  }
  checkTraffic(h, loops[0], 'web');
  checkTraffic(h, loops[1], 'web-nat');
}
