import { parseFlags, withUsage } from '../args.ts';
import type { CliIO } from '../io.ts';
import { checkSpec, readSpecFile } from '../spec-file.ts';

/** `lvsfleet validate -f FILE|-`: offline check of a site spec; exit 2 with `FILE:LINE: path: message` lines. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('validate', io, async () => {
    const { values } = parseFlags(argv, { file: { type: 'string', short: 'f' } });
    const file = await readSpecFile(values.file, io);
    const site = checkSpec(file, io);
    if (!site) return 2;
    const s = site.spec;
    io.stdout(
      `${file.name}: ok: site ${site.metadata.name}, ${s.nodes.length} nodes, ${s.vrrp?.length ?? 0} VRRP instances, ${s.services?.length ?? 0} services\n`,
    );
    return 0;
  });
}
