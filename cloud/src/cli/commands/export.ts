/**
 * `lvsfleet export keepalived|ipvsadm (--site S | --spec FILE) --node N [-o FILE]`: one
 * director's keepalived.conf or ipvsadm-restore rules. `--site` reads the current spec from
 * the API (GET /v1/sites/{site} with LVSFLEET_URL / LVSFLEET_TOKEN); `--spec` works offline.
 * Exit 0 ok, 2 invalid input (bad spec, unknown node, bad flags), 1 runtime failure (API).
 */
import { parseArgs } from 'node:util';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIO } from '../io.ts';
import { parseSite } from '../../../../shared/spec/parse.ts';
import { validateSite } from '../../../../shared/spec/validate.ts';
import { formatIssues } from '../../../../shared/spec/issues.ts';
import type { Site } from '../../../../shared/spec/site.ts';
import { renderKeepalived, RenderError } from '../../../../shared/keepalived/render.ts';
import { renderIpvsadm, IpvsadmRenderError } from '../../../../shared/ipvsadm/render.ts';

const USAGE = 'usage: lvsfleet export keepalived|ipvsadm (--site S | --spec FILE) --node N [--out FILE]\n';

class InputError extends Error {}

/** GET /v1/sites/{site}: the answer's `spec` (or the site document itself) validated as a Site. */
async function fetchSite(io: CliIO, site: string): Promise<Site> {
  const base = io.env.LVSFLEET_URL ?? 'http://127.0.0.1:8080';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (io.env.LVSFLEET_TOKEN) headers.authorization = `Bearer ${io.env.LVSFLEET_TOKEN}`;
  const res = await fetch(new URL(`/v1/sites/${encodeURIComponent(site)}`, base), { headers });
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (res.status === 404) throw new InputError(`site "${site}" not found at ${base}`);
  if (!res.ok) throw new Error(`GET /v1/sites/${site}: HTTP ${res.status} ${JSON.stringify((body as { error?: unknown } | null)?.error ?? '')}`);
  // Accept the Site itself or an envelope carrying it.
  const candidates = [body, body?.spec, body?.site, (body?.revision as Record<string, unknown> | undefined)?.spec];
  for (const c of candidates) {
    const v = validateSite(c);
    if (v.ok) return v.site;
  }
  throw new Error(`GET /v1/sites/${site}: the answer holds no valid site spec`);
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
      const parsed = parseSite(readFileSync(resolve(io.cwd, v.spec), 'utf8'));
      if (!parsed.ok) {
        io.stderr(formatIssues(parsed.issues.map((i) => ({ ...i, path: `${v.spec}${i.line ? `:${i.line}` : ''}: ${i.path}` }))) + '\n');
        return 2;
      }
      site = parsed.site;
    } else site = await fetchSite(io, v.site!);
    const out = kind === 'keepalived' ? renderKeepalived(site, v.node) : renderIpvsadm(site, v.node);
    for (const w of out.warnings) io.stderr(`warning: ${w}\n`);
    if (v.out) {
      // Nothing half-written: write a temporary file, then rename.
      const target = resolve(io.cwd, v.out);
      writeFileSync(`${target}.tmp`, out.text);
      renameSync(`${target}.tmp`, target);
    } else io.stdout(out.text);
    return 0;
  } catch (err) {
    if (err instanceof InputError || err instanceof RenderError || err instanceof IpvsadmRenderError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr(`lvsfleet export: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
