/**
 * `lvsfleet export keepalived|ipvsadm (--site S | --spec FILE|-) --node N [--out FILE]`: one
 * director's keepalived.conf, or the `ipvsadm -R` rules its agent programs (every real server up).
 * `--site` reads the current spec from the API (GET /v1/sites/{site} with LVSFLEET_URL /
 * LVSFLEET_TOKEN); `--spec` works offline.
 * Exit 0 ok, 2 invalid input (bad spec, unknown node, bad flags), 1 runtime failure (API).
 */
import { parseArgs } from 'node:util';
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIO } from '../io.ts';
import { ApiCallError, apiClient, reportApiError } from '../client.ts';
import { checkSpec, readSpecFile } from '../spec-file.ts';
import { UsageError } from '../args.ts';
import { validateSite } from '#shared/site/validate.ts';
import { formatIssues } from '#shared/site/issues.ts';
import type { Site } from '#shared/site/site.ts';
import { renderKeepalived, RenderError } from '#shared/keepalived/render.ts';
import { exportIpvsadm, IpvsadmExportError } from '#shared/ipvs/export.ts';

const USAGE = 'usage: lvsfleet export keepalived|ipvsadm (--site S | --spec FILE) --node N [--out FILE]\n';

class InputError extends Error {}

/** GET /v1/sites/{site} (the cloud API's route): the answer's `spec`, validated as a Site. */
async function fetchSite(io: CliIO, site: string): Promise<Site> {
  const client = apiClient(io);
  let body: Record<string, unknown> | undefined;
  try {
    body = await client.call<Record<string, unknown>>('GET', `/v1/sites/${encodeURIComponent(site)}`);
  } catch (err) {
    if (err instanceof ApiCallError && err.status === 404) throw new InputError(`site "${site}" not found at ${client.baseUrl}`);
    throw err;
  }
  const v = validateSite(body?.spec);
  if (!v.ok) throw new Error(`GET /v1/sites/${site}: the answer holds no valid site spec (${formatIssues(v.issues).split('\n')[0]})`);
  return v.site;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [kind, ...rest] = argv;
  let v;
  try {
    v = parseArgs({ args: rest, options: { site: { type: 'string' }, spec: { type: 'string' }, node: { type: 'string' }, out: { type: 'string' } } }).values;
  } catch (err) {
    io.stderr(`lvsfleet export: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if ((kind !== 'keepalived' && kind !== 'ipvsadm') || !v.node || !!v.site === !!v.spec) {
    io.stderr(`lvsfleet export: give keepalived or ipvsadm, --node, and one of --site or --spec\n${USAGE}`);
    return 2;
  }
  let site: Site;
  try {
    if (v.spec) {
      const checked = checkSpec(await readSpecFile(v.spec, io), io);
      if (!checked) return 2;
      site = checked.site;
    } else site = await fetchSite(io, v.site!);
    const out = kind === 'keepalived' ? renderKeepalived(site, v.node) : exportIpvsadm(site, v.node);
    for (const w of out.warnings) io.stderr(`warning: ${w}\n`);
    if (v.out) {
      // Nothing half-written: write a temporary file, then rename.
      const target = resolve(io.cwd, v.out);
      writeFileSync(`${target}.tmp`, out.text);
      renameSync(`${target}.tmp`, target);
    } else io.stdout(out.text);
    return 0;
  } catch (err) {
    if (err instanceof InputError || err instanceof UsageError || err instanceof RenderError || err instanceof IpvsadmExportError) {
      io.stderr(`lvsfleet export: ${(err as Error).message}\n`);
      return 2;
    }
    if (err instanceof ApiCallError) return reportApiError('export', err, io);
    throw err;
  }
}
