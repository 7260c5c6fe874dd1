/**
 * The kernel lab's guest driver: builds the namespaces, starts the real servers and the client,
 * and runs every scenario with our agents on real IPVS. Exit status 0 = nothing failed.
 * Args: `--only a+b` runs only those scenarios; `--break-agent` preloads the broken agent;
 * `--verbose` echoes every daemon's output; `--cloud-token TOKEN`: the host runs the cloud
 * (run.sh) and this is its admin token, for the rollout scenario.
 */
import { openCloudLink, type CloudLink } from './cloud-link.ts';
import { Client } from './client-rpc.ts';
import { check, Harness, LabPending } from './harness.ts';
import { realServers, saveLines, weightsFromSave } from './ipvs.ts';
import { AGENT_BUNDLE, Lab } from './lab.ts';
import { changeWithoutHarm, failover, natAndTun } from './scenarios-change.ts';
import { drTraffic, health, startDrSite } from './scenarios-dr.ts';
import { dualStack } from './scenarios-dual-stack.ts';
import { ipv6Kernel } from './scenarios-ipv6.ts';
import { applyThousand, keepalivedMixed } from './scenarios-keepalived.ts';
import { drain, failoverTo, maintenance } from './scenarios-ops.ts';
import { rollout } from './scenarios-rollout.ts';
import { nsh, run } from './sh.ts';
import { NET } from './topology.ts';

async function main(argv: string[]): Promise<number> {
  // `--only a+b`, or `--only a b` (init turns the kernel command line's commas into spaces).
  const onlyArg = argv.indexOf('--only');
  const onlyWords: string[] = [];
  for (let i = onlyArg + 1; onlyArg >= 0 && i < argv.length && !argv[i].startsWith('--'); i++) onlyWords.push(...argv[i].split('+'));
  const only = onlyArg >= 0 ? new Set(onlyWords) : null;
  if (argv.includes('--verbose')) process.env.LAB_VERBOSE = '1';
  // The C real servers and request loop (rs.c, loop.c) instead of the Node ones; the client inherits it.
  if (argv.includes('--c-traffic')) process.env.LAB_C_TRAFFIC = '1';
  const lab = new Lab({ breakAgent: argv.includes('--break-agent'), agentProf: argv.includes('--agent-prof') });
  const h = new Harness();
  h.onFail = () => lab.diagnose();
  const hasAgent = Lab.hasAgent();
  const noAgent = hasAgent ? undefined : 'agent bundle /lvsfleet-agent.mjs was not built into the initramfs (npm run build:agent)';
  const t0 = Date.now();
  await lab.build();
  const client = await Client.start('c');
  process.stdout.write(`kernel-lab: topology and servers up in ${Date.now() - t0} ms${lab.opts.breakAgent ? ' — BROKEN AGENT MODE' : ''}\n`);

  // Node's start-up under TCG decides how long agents take to come up; print it as context.
  const tNode = Date.now();
  await run(['node', '-e', '0']);
  process.stdout.write(`kernel-lab: node -e 0 took ${Date.now() - tNode} ms\n`);
  if (hasAgent) {
    const tAgent = Date.now();
    const help = await run(['node', AGENT_BUNDLE, 'help']);
    process.stdout.write(`kernel-lab: lvsfleet-agent help took ${Date.now() - tAgent} ms (exit ${help.code})\n`);
  }

  let cloud: CloudLink | undefined;
  // A planned-operation scenario that has not passed here runs only when LAB_ONLY names it
  // (README, "Planned operations"): a suite that cannot pass would hide every other scenario's
  // result in CI. None is left out now: drain and failover-to pass since connection sync carries
  // a VIP move, rollout since its API calls stopped sharing connections through the forwarder and
  // setLink stopped leaving d1 without its route to the NAT client, and maintenance since the
  // hand-over is make-before-break (the old MASTER lingers on its VIPs, the new one copies what it
  // holds to it): 0 failed in 5 of 6 runs since, the one loss not at a move. That a copy rescued a
  // split handshake has not been seen yet (the copy rule's counter read 0 where it was read).
  const OPS = ['drain', 'maintenance', 'failover-to', 'rollout'];
  const OPT_IN: string[] = [];
  const want = (name: string) => (only ? only.has(name) : !OPT_IN.includes(name));
  let drUp = false;
  const needDr = () => {
    if (!drUp) throw new LabPending('needs the DR site of scenario dr, which did not come up');
  };
  try {
    if (want('kernel-smoke')) {
      await h.scenario('kernel-smoke', async () => {
        // The kernel path alone, before any agent: a NAT service by hand in a scratch director.
        await nsh('k1', 'ipvsadm', '-A', '-t', '10.99.0.99:80', '-s', 'rr');
        for (const rs of [NET.rs1, NET.rs2]) await nsh('k1', 'ipvsadm', '-a', '-t', '10.99.0.99:80', '-r', `${rs}:8000`, '-m');
        check((await realServers('k1', '10.99.0.99', 80)).size === 2, 'ipvsadm did not add two real servers');
        // The scenarios read weights from /proc/net/ip_vs: what ipvsadm shows, on this kernel.
        await nsh('k1', 'ipvsadm', '-e', '-t', '10.99.0.99:80', '-r', `${NET.rs2}:8000`, '-m', '-w', '0');
        const fromProc = JSON.stringify([...(await realServers('k1', '10.99.0.99', 80))].sort());
        const fromSave = JSON.stringify([...weightsFromSave(await saveLines('k1'), '10.99.0.99', 80)].sort());
        check(fromProc === fromSave, `/proc/net/ip_vs read ${fromProc}, ipvsadm -Sn ${fromSave}`);
        await nsh('k1', 'ipvsadm', '-D', '-t', '10.99.0.99:80');
      });
    }
    if (want('dr')) drUp = (await h.scenario('1 dr: rr/wrr through IPVS, replies bypass the director', () => drTraffic(h, lab, client), noAgent)) === 'PASS';
    // The planned-operation scenarios run on the DR site: without scenario dr, only bring it up.
    else if (OPS.some(want)) drUp = (await h.scenario('dr-site: agents up on the DR site', () => startDrSite(h, lab), noAgent)) === 'PASS';
    if (want('health')) await h.scenario('2 health: out in time, back, sorry server', async () => (needDr(), health(h, lab, client)), noAgent);
    if (want('change'))
      await h.scenario('4 change without harm: revision 2, agent restarts', async () => (needDr(), changeWithoutHarm(h, lab, client)), noAgent);
    if (want('nat-tun')) await h.scenario('5 nat and tun', async () => (needDr(), natAndTun(h, lab, client)), noAgent);
    if (want('failover')) await h.scenario('3 failover: crash d1 under traffic, connection sync', async () => (needDr(), failover(h, lab, client)), noAgent);
    if (want('drain')) await h.scenario('drain: rs1 drained under traffic, undrained', async () => (needDr(), drain(h, lab, client)), noAgent);
    if (want('maintenance'))
      await h.scenario('maintenance: the MASTER director hands over and returns at until', async () => (needDr(), maintenance(h, lab, client)), noAgent);
    if (want('failover-to')) await h.scenario('failover-to: failover VI_1 --to d2, back at until', async () => (needDr(), failoverTo(h, lab, client)), noAgent);
    if (want('keepalived')) await h.scenario('6 keepalived on k1 + our agent on k2, one VRRP group', () => keepalivedMixed(h, lab, client), noAgent);
    if (want('apply-1000'))
      await h.scenario('apply 1000 services: agent vs keepalived (TCG, function evidence)', async () => {
        await applyThousand(h, lab, hasAgent);
        if (!hasAgent) throw new LabPending(`keepalived half measured; ${noAgent}`);
      });
    if (want('ipv6')) await h.scenario('7 ipv6: dual-stack DR, v6 NAT and TUN, kernel formats, v6 connection sync', () => ipv6Kernel(h, client));
    if (want('dual-stack'))
      await h.scenario(
        '8 dual-stack: our agents, v4 + v6 VRRPv3 in one sync group, DR/NAT, failover with unsolicited NA',
        () => dualStack(h, lab, client),
        noAgent,
      );
    // Last: it leaves the DR site's agents in cloud mode.
    if (want('rollout')) {
      const tokenArg = argv.indexOf('--cloud-token');
      const noCloud = tokenArg < 0 ? 'the host started no cloud for the guest (run.sh needs socat for qemu guestfwd)' : undefined;
      await h.scenario(
        'rollout: a bad revision rolls back before the MASTER',
        async () => {
          needDr();
          cloud = await openCloudLink(argv[tokenArg + 1]);
          await rollout(h, lab, client, cloud);
        },
        noAgent ?? noCloud,
      );
    }
  } finally {
    cloud?.close();
    await client.stop().catch(() => {});
    await lab.shutdown();
  }
  return h.summary();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stdout.write(`kernel-lab: driver crashed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(3);
  },
);
