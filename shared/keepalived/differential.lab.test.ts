/**
 * Differential test of the importer against keepalived itself: for every fixture that imports,
 * each director's original keepalived.conf and the `export keepalived` of the imported spec are
 * loaded by keepalived (each in a scratch network namespace that has
 * the interfaces the files name), and the effective configuration it reports is compared:
 * VRRP instances (state, interface, VRID, priority, advert interval, preempt, authentication,
 * VIPs, unicast peers, tracked interfaces and scripts), scripts, sync groups and the LVS sync
 * daemon. The checker half (services, real servers, checks) is dumped by keepalived only when
 * the kernel has IPVS; without it that half is skipped and the reason printed. A fixture whose
 * import cannot run as keepalived does (a warning says so, e.g. AH authentication) lists the
 * dump lines that may differ, and why, in differs.json.
 *
 * Each dump is the file the keepalived process itself writes on SIGUSR1 (keepalived.data for
 * the VRRP process, keepalived_check.data for the checker), not the `-d` console dump, where
 * the parent's and every child's lines interleave from run to run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Site } from '../site/site.ts';
import { CASES, ROOT, caseArgs, caseFiles } from './import-cases.test-support.ts';
import { renderKeepalived } from './render.ts';

const KEEPALIVED = ['/usr/sbin/keepalived', '/sbin/keepalived', '/usr/local/sbin/keepalived'].find((p) => existsSync(p));
const skipReason = !KEEPALIVED
  ? 'keepalived is not installed'
  : process.getuid?.() !== 0
    ? 'network namespaces need root'
    : spawnSync('ip', ['netns', 'list']).status !== 0
      ? 'ip netns is not available'
      : null;
const IPVS = existsSync('/proc/net/ip_vs');
if (skipReason) console.log(`differential.lab.test.ts: skipped: ${skipReason}`);
else if (!IPVS)
  console.log(
    'differential.lab.test.ts: services, real servers, checks and the connection sync daemon not compared: this kernel has no IPVS, so keepalived cannot run them',
  );

const work = mkdtempSync(join(tmpdir(), 'lvsfleet-kdiff-'));
// One namespace for the original and one for the export, so both run at once.
const NS = [`lvsf-kdiff-${process.pid}-a`, `lvsf-kdiff-${process.pid}-b`] as const;
afterAll(() => {
  for (const ns of NS) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(work, { recursive: true, force: true });
});

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

/** Fresh namespaces with a veth end (up) for each interface name. */
function scratchNetns(interfaces: Set<string>): void {
  for (const ns of NS) {
    spawnSync('ip', ['netns', 'del', ns]);
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    let i = 0;
    for (const name of interfaces) {
      ip('-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `kdp${i++}`);
      ip('-n', ns, 'link', 'set', name, 'up');
    }
  }
}

/** Every interface name a site uses. */
function interfacesOf(site: Site): Set<string> {
  const out = new Set<string>();
  const add = (n: string | undefined) => n && out.add(n);
  for (const n of site.spec.nodes) add(n.interface);
  for (const v of site.spec.vrrp ?? []) {
    add(v.interface);
    v.members.forEach((m) => add(m.interface));
    [...v.vips, ...(v.excludedVips ?? [])].forEach((x) => typeof x !== 'string' && add(x.interface));
    v.trackInterfaces?.forEach((t) => add(t.interface));
  }
  add(site.spec.connectionSync?.interface);
  return out;
}

/** Whether process `pid` has `path` open (its /proc fd links). */
function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false; // the process is gone: it holds nothing
  }
}

/** Where each process writes its configuration on SIGUSR1 (keepalived's open_dump_file, in $TMPDIR). */
const DUMP = {
  '-P': { file: 'keepalived.data' },
  '-C': { file: 'keepalived_check.data' },
} as const;

/**
 * The configuration one keepalived process holds: keepalived runs `file` in namespace `ns`
 * (`-P` VRRP only, `-C` checker only) until its parent logs "Startup complete" (every child
 * has read the configuration, after installing its signal handlers: vrrp_daemon.c,
 * config_notify.c), then SIGUSR1 to that child alone makes it write its own dump file in a
 * $TMPDIR of this run. `-d` is not used: it makes the parent and each child print to one
 * console, where their dumps interleave from run to run.
 */
function dump(ns: string, file: string, mode: '-P' | '-C', configId?: string): Promise<string> {
  const dir = mkdtempSync(join(work, 'run-'));
  const { file: dataFile } = DUMP[mode];
  const childPid = join(dir, 'child.pid');
  const pidFiles = [
    '-p',
    join(dir, 'parent.pid'),
    ...(mode === '-P' ? ['-r', childPid, '-c', join(dir, 'c.pid')] : ['-c', childPid, '-r', join(dir, 'v.pid')]),
  ];
  const id = configId !== undefined ? ['-i', configId] : [];
  const args = ['netns', 'exec', ns, KEEPALIVED!, mode, '-n', '-l', ...id, '-f', file, ...pidFiles, '-b', join(dir, 'b.pid')];
  return new Promise((done, fail) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
    let log = '';
    let dumper = 0;
    let result: string | null = null;
    const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
    const poll = setInterval(() => {
      if (!dumper && /^.*Startup complete$/m.test(log) && existsSync(childPid)) {
        dumper = Number(readFileSync(childPid, 'utf8').trim());
        process.kill(dumper, 'SIGUSR1');
      }
      const data = join(dir, dataFile);
      // keepalived writes a temporary file and renames it while still writing: the dump is
      // whole once the process no longer holds it open.
      if (!dumper || result !== null || !existsSync(data) || holds(dumper, data)) return;
      result = readFileSync(data, 'utf8');
      child.kill('SIGTERM');
    }, 100);
    const take = (b: Buffer) => (log += b.toString());
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', fail);
    child.on('close', () => {
      clearTimeout(timer);
      clearInterval(poll);
      if (result === null) fail(new Error(`keepalived ${mode} wrote no ${dataFile} for ${file}:\n${log}`));
      else done(result);
    });
  });
}

/**
 * keepalived's VRRP process starts IPVS for a connection sync daemon and exits when the kernel
 * has none, before it can report anything. On such a kernel the sync lines are commented out
 * of both files (same line numbers) and the rest is compared; which sync line wins is checked
 * by the import's golden test, and here only where IPVS exists.
 */
function withoutSyncDaemon(path: string, copy: string): string {
  const sync = /^(\s*)(lvs_sync_daemon(_interface)?\b.*)$/gm;
  const text = readFileSync(path, 'utf8');
  if (IPVS || !text.match(sync)) return path;
  if (/^\s*include\b/m.test(text)) throw new Error(`${path}: a copy without the sync daemon would lose its relative includes`);
  writeFileSync(copy, text.replace(sync, '$1! $2'));
  return copy;
}

/** Lines that describe running state, paths or this run, not configuration. */
const VOLATILE =
  /^\s*(fd_in |State =|Status =|Result =|Init state|Number of|Num member|No sockets|Sockets|Script uid:gid|Insecure|Last |last |Master |Effective priority|Total priority|Using smtp|Notify deleted|Tracking VRRP instances|Running on|Command line|Configuration file|Starting|Stopping|Stopped|Startup complete|Using src_ip)/;

/** The parts of a -P dump the comparison covers, sections in a fixed order. */
function effectiveVrrp(log: string): string {
  const sections = new Map<string, string[]>();
  let current: string | null = null;
  for (const line of log.split('\n')) {
    const head = /^------< (.+) >------$/.exec(line);
    if (head) {
      current = head[1];
      sections.set(current, []);
      continue;
    }
    if (current) sections.get(current)!.push(line);
  }
  const global = (sections.get('Global definitions') ?? []).filter((l) => /^ (LVS syncd|LVS mcast|Gratuitous ARP interval)/.test(l));
  const keep = (name: string) =>
    (sections.get(name) ?? []).filter((l) => l.startsWith(' ') && !VOLATILE.test(l)).map((l) => l.replace(/^( VRRP Sync Group = [^,]+),.*/, '$1'));
  return [
    '[global]',
    ...global,
    '[scripts]',
    ...keep('VRRP Scripts'),
    '[instances]',
    ...keep('VRRP Topology'),
    '[sync groups]',
    ...keep('VRRP Sync groups'),
  ].join('\n');
}

function effectiveLvs(log: string): string {
  const at = log.indexOf('------< LVS Topology >------');
  return at < 0
    ? ''
    : log
        .slice(at)
        .split('\n')
        .filter((l) => l.startsWith(' ') && !VOLATILE.test(l))
        .join('\n');
}

/** The fixture's files, import args and imported site (null when it does not import). */
function imported(name: string): { files: string[]; site: Site; nodeOf: Map<string, string> } | null {
  const dir = join(ROOT, name);
  if (!existsSync(join(dir, 'expected.yaml'))) return null;
  const site = parse(readFileSync(join(dir, 'expected.yaml'), 'utf8')) as Site;
  const files = caseFiles(name);
  // Directors come out in file order (merge-nodes.ts).
  const directors = site.spec.nodes.filter((n) => n.role === 'director').map((n) => n.name);
  if (directors.length !== files.length) return null; // include trees: fragments are not directors
  return { files, site, nodeOf: new Map(files.map((f, i) => [f, directors[i]])) };
}

describe.skipIf(skipReason !== null)('keepalived reads the export of an import as it reads the original', () => {
  const cases = CASES.map((c) => ({ c, imp: imported(c) })).filter((x) => x.imp !== null);

  it('covers the fixtures written from keepalived behaviour', () => {
    expect(cases.map((x) => x.c)).toEqual(
      expect.arrayContaining(['as-keepalived-lb-kind-case', 'as-keepalived-sync-interface-first', 'as-keepalived-state-slave']),
    );
  });

  for (const { c, imp } of cases) {
    it(c, async () => {
      const { files, site, nodeOf } = imp!;
      const { configId } = caseArgs(c);
      const differsFile = join(ROOT, c, 'differs.json');
      const differs = existsSync(differsFile) ? (JSON.parse(readFileSync(differsFile, 'utf8')) as { why: string; lines: string[] }) : null;
      const same = (text: string) =>
        differs
          ? text
              .split('\n')
              .filter((l) => !differs.lines.some((p) => l.trim().startsWith(p)))
              .join('\n')
          : text;
      scratchNetns(interfacesOf(site));
      for (const f of files) {
        const exported = join(work, `${c}-${f}`);
        const node = nodeOf.get(f)!;
        writeFileSync(exported, renderKeepalived(site, node).text);
        const original = withoutSyncDaemon(join(ROOT, c, f), join(work, `${c}-original-${f}`));
        withoutSyncDaemon(exported, exported);
        // A director without instances has no VRRP half to compare (keepalived would only say so).
        if ((site.spec.vrrp ?? []).some((i) => i.members.some((m) => m.node === node))) {
          const [a, b] = (await Promise.all([dump(NS[0], original, '-P', configId), dump(NS[1], exported, '-P')])).map(effectiveVrrp);
          // Not two empty dumps compared: the original's instances are in it.
          expect(a, `${c}/${f}: keepalived's dump of the original`).toMatch(/^ VRRP Instance = /m);
          expect(same(b), `${c}/${f}: keepalived's VRRP configuration of the export`).toBe(same(a));
        }
        if (IPVS) {
          const [a, b] = (await Promise.all([dump(NS[0], original, '-C', configId), dump(NS[1], exported, '-C')])).map(effectiveLvs);
          expect(same(b), `${c}/${f}: LVS configuration`).toBe(same(a));
        }
      }
    });
  }
});
