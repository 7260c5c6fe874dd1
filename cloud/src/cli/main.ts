/**
 * `lvsfleet` CLI entry. Each command lives in ./commands/<name>.ts and exports
 * `run(argv, io): Promise<number>` returning the exit code (0 ok, 1 runtime failure, 2 bad input).
 */
import type { CliIO } from './io.ts';
import { defaultIO } from './io.ts';
import { terminalIO } from './output.ts';

type Command = { summary: string; load: () => Promise<{ run: (argv: string[], io: CliIO) => Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the API, status pages, publisher, ingest and embedded broker', load: () => import('./commands/serve.ts') },
  validate: { summary: 'validate -f FILE: check a site spec offline', load: () => import('./commands/validate.ts') },
  apply: {
    summary: 'apply -f FILE [--dry-run] [--message M] [--force] [--wait [--timeout 5m]]: store a new revision (and follow it to every node)',
    load: () => import('./commands/apply.ts'),
  },
  rollout: { summary: 'rollout status|pause|resume|abort SITE: the staged rollout of a site', load: () => import('./commands/rollout.ts') },
  diff: { summary: 'diff -f FILE: show what applying FILE would change', load: () => import('./commands/diff.ts') },
  get: { summary: 'get sites|nodes|services [--site S] [-o table|json|yaml]', load: () => import('./commands/get.ts') },
  status: {
    summary: 'status [SITE] [-o table|json|yaml] [--exit-code]: state and reasons, nodes, VRRP, real servers',
    load: () => import('./commands/status.ts'),
  },
  'enroll-token': { summary: 'enroll-token --site S --node N [--replace]: one-time enrollment token', load: () => import('./commands/enroll-token.ts') },
  import: { summary: 'import keepalived FILE… | import ipvsadm FILE: produce a site spec', load: () => import('./commands/import.ts') },
  webhook: {
    summary: 'webhook add URL [--format slack] [--event T]… [--min-severity S] | list | rm | deliveries | test | redeliver',
    load: () => import('./commands/webhook.ts'),
  },
  keys: {
    summary: 'keys list [-o table|json|yaml] | rotate: signing keys, their rotation state and the nodes still lacking one',
    load: () => import('./commands/keys.ts'),
  },
  export: { summary: 'export keepalived|ipvsadm (--site S | --spec FILE) --node N', load: () => import('./commands/export.ts') },
  drain: {
    summary: 'drain SITE REALSERVER|DIRECTOR [--service S] --for 30m --reason R [--wait]: weight 0 / out of VRRP until then',
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.drain })),
  },
  undrain: {
    summary: 'undrain SITE REALSERVER|DIRECTOR [--wait]: end its drain now',
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.undrain })),
  },
  maintenance: {
    summary: 'maintenance SITE DIRECTOR --for 1h --reason R [--wait]: BACKUP once its peer took over, until then',
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.maintenance })),
  },
  failover: {
    summary: 'failover SITE INSTANCE --to DIRECTOR --for 10m --reason R [--wait]: make it MASTER until then',
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.failover })),
  },
  disable: {
    summary: 'disable SITE SERVICE --for 10m --reason R: sorry server (or quiesce) until then',
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.disable })),
  },
  overrides: {
    summary: 'overrides SITE [--all] [-o table|json|yaml]: active (or all) overrides',
    load: () => import('./commands/overrides.ts').then((m) => ({ run: m.list })),
  },
  cancel: { summary: 'cancel SITE ID… [--wait]: end overrides now', load: () => import('./commands/overrides.ts').then((m) => ({ run: m.cancel })) },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`);
  return `usage: lvsfleet <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nLVSFLEET_URL and LVSFLEET_TOKEN select the server and the bearer token.\n`;
}

export async function main(argv: string[], rawIO: CliIO = defaultIO()): Promise<number> {
  // Every command prints through one filter: API answers carry text nodes wrote.
  const io = terminalIO(rawIO);
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    io.stdout(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr(`lvsfleet: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    const mod = await cmd.load();
    return await mod.run(rest, io);
  } catch (err) {
    io.stderr(`lvsfleet ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
