/**
 * `lvsfleet import keepalived FILE… [--site NAME] [-o yaml|json] [--realservers-as-nodes] [--address NAME=IP]… [--strict] [--config-id ID]`
 * `lvsfleet import ipvsadm FILE [--site NAME] [--node NAME] --address IP [--interface IF] [-o yaml|json]`
 * Prints a site spec on stdout; warnings and errors go to stderr as `FILE:LINE: …`.
 * Exit 0 ok (warnings allowed), 2 invalid input (any error), 1 runtime failure.
 */
import { parseArgs } from 'node:util';
import { isAbsolute, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { CliIO } from '../io.ts';
import { cannotRead, formatDiagnostic, type Diagnostic } from '#shared/keepalived/diagnostics.ts';
import { importKeepalived } from '#shared/keepalived/import.ts';
import { importIpvsadm } from '#shared/ipvs/import.ts';
import type { Site } from '#shared/site/site.ts';
import { fsSource } from './fs-source.ts';

const USAGE = `usage: lvsfleet import keepalived FILE… [--site NAME] [-o yaml|json] [--realservers-as-nodes] [--address NAME=IP]… [--strict] [--config-id ID]
       lvsfleet import ipvsadm FILE [--site NAME] [--node NAME] --address IP [--interface IF] [-o yaml|json]
`;

const HELP = `${USAGE}
Prints a site spec on stdout; warnings and errors go to stderr as FILE:LINE: message.
Exit 0 ok (warnings allowed), 2 invalid input, 1 runtime failure.

keepalived: one keepalived.conf per director (with its includes); the files are merged into
one site, each director named after its router_id (or its file).
  --site NAME              the site's name (default: imported)
  --address NAME=IP        a director's address when its file has no unicast_src_ip / mcast_src_ip
  --realservers-as-nodes   make every real server a realserver node
  --config-id ID           keepalived's -i: read the @ID conditional lines (and @^OTHER ones)
  --strict                 refuse what keepalived tolerates and corrects (state SLAVE, a VIP listed
                           twice, nopreempt with state MASTER, …) instead of importing it as
                           keepalived runs it with a warning
ipvsadm: ipvsadm -S / -Sn output ("-" for stdin) → one director's services.
  --node NAME, --address IP, --interface IF   that director
  -o yaml|json             output format (both kinds; default yaml)
`;

/** Renders a site the way `-o` asks. */
export function formatSite(site: Site, output: string): string {
  return output === 'json' ? `${JSON.stringify(site, null, 2)}\n` : stringify(site, { lineWidth: 0 });
}

function report(io: CliIO, diags: Diagnostic[]): void {
  if (diags.length) io.stderr(diags.map(formatDiagnostic).join('\n') + '\n');
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === 'help') {
    io.stdout(HELP);
    return 0;
  }
  const [kind, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        site: { type: 'string' },
        output: { type: 'string', short: 'o', default: 'yaml' },
        address: { type: 'string', multiple: true },
        'realservers-as-nodes': { type: 'boolean' },
        node: { type: 'string' },
        interface: { type: 'string' },
        strict: { type: 'boolean' },
        'config-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr(`lvsfleet import: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals: files } = parsed;
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  if (v.output !== 'yaml' && v.output !== 'json') {
    io.stderr(`lvsfleet import: -o must be yaml or json\n`);
    return 2;
  }
  const abs = files.map((f) => (isAbsolute(f) ? f : resolve(io.cwd, f)));
  const shown = new Map(abs.map((a, i) => [a, files[i]]));
  const show = (d: Diagnostic): Diagnostic => ({ ...d, file: shown.get(d.file) ?? d.file });
  if (kind === 'keepalived') {
    if (!files.length) return usageError(io, 'import keepalived needs at least one FILE');
    const addresses: Record<string, string> = {};
    for (const a of v.address ?? []) {
      const m = /^([^=]+)=(.+)$/.exec(a);
      if (!m) return usageError(io, `--address expects NAME=IP, not "${a}"`);
      addresses[m[1]] = m[2];
    }
    const result = importKeepalived(abs, fsSource, {
      site: v.site ?? 'imported',
      addresses,
      realserversAsNodes: v['realservers-as-nodes'],
      strict: v.strict,
      configId: v['config-id'],
    });
    report(io, result.diagnostics.map(show));
    if (!result.site) return 2;
    io.stdout(formatSite(result.site, v.output));
    return 0;
  }
  if (kind === 'ipvsadm') {
    if (v.strict || v['config-id'] !== undefined) return usageError(io, '--strict and --config-id are for import keepalived');
    if (files.length !== 1) return usageError(io, 'import ipvsadm needs exactly one FILE (ipvsadm -S output, "-" for stdin)');
    let text: string;
    try {
      text = files[0] === '-' ? await io.readStdin() : fsSource.read(abs[0]);
    } catch (err) {
      // As import keepalived reports it: FILE: cannot read: REASON, exit 2.
      report(io, [cannotRead(files[0], err)]);
      return 2;
    }
    const result = importIpvsadm(text, files[0], { site: v.site ?? 'imported', node: v.node ?? 'director1', address: v.address?.[0], interface: v.interface });
    report(io, result.diagnostics);
    if (!result.site) return 2;
    io.stdout(formatSite(result.site, v.output));
    return 0;
  }
  return usageError(io, `unknown import kind "${kind ?? ''}" (keepalived or ipvsadm)`);
}

function usageError(io: CliIO, message: string): number {
  io.stderr(`lvsfleet import: ${message}\n${USAGE}`);
  return 2;
}
