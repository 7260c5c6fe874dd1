import { parseSite } from '#shared/site/parse.ts';
import { plural } from '#shared/util/plural.ts';
import { parseFlags, UsageError, withUsage } from '../args.ts';
import type { CliIO } from '../io.ts';
import { checkSpec, readSpecFile } from '../spec-file.ts';

/**
 * `lvsfleet validate -f FILE|- [-o text|json]`: offline check of a site spec; exit 2 with
 * `FILE:LINE: path: message` lines, or with `-o json` one document `{file, valid, issues, …}` on stdout.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  return withUsage('validate', io, async () => {
    const { values } = parseFlags(argv, { file: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' } });
    if (values.output !== undefined && values.output !== 'text' && values.output !== 'json')
      throw new UsageError(`-o must be text or json, not "${values.output}"`);
    const file = await readSpecFile(values.file, io);
    if (values.output === 'json') {
      const r = parseSite(file.text);
      const counts = r.ok
        ? {
            site: r.site.metadata.name,
            nodes: r.site.spec.nodes.length,
            vrrpInstances: r.site.spec.vrrp?.length ?? 0,
            services: r.site.spec.services?.length ?? 0,
          }
        : {};
      io.stdout(
        JSON.stringify(
          { file: file.name, valid: r.ok, ...counts, issues: r.ok ? [] : r.issues.map((i) => ({ ...i, message: i.message.replace(/^line \d+: /, '') })) },
          null,
          2,
        ) + '\n',
      );
      return r.ok ? 0 : 2;
    }
    const site = checkSpec(file, io)?.site;
    if (!site) return 2;
    const s = site.spec;
    io.stdout(
      `${file.name}: ok: site ${site.metadata.name}, ${plural(s.nodes.length, 'node')}, ${plural(s.vrrp?.length ?? 0, 'VRRP instance')}, ${plural(s.services?.length ?? 0, 'service')}\n`,
    );
    return 0;
  });
}
