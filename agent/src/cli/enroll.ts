import { EnrollResponse } from '#shared/wire/enroll.ts';
import { AgentConfig } from '../cloud/agent-config.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { DEFAULT_CONFIG } from '../state/paths.ts';
import { parseFlags } from './args.ts';
import { EXIT, UsageError, type AgentIO } from './io.ts';

/**
 * `lvsfleet-agent enroll --url URL --token T [--config FILE] [--state-dir DIR]`: trades the
 * one-time token for broker credentials and the cloud's public keys (POST /v1/agent/enroll)
 * and writes them to the config file, mode 0600.
 */
export async function runEnroll(argv: string[], io: AgentIO): Promise<number> {
  const f = parseFlags(argv, { url: { type: 'string' }, token: { type: 'string' }, config: { type: 'string' }, 'state-dir': { type: 'string' } });
  if (!f.url) throw new UsageError('--url is required');
  if (!f.token) throw new UsageError('--token is required');
  let base: URL;
  try {
    base = new URL(f.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${f.url}`);
  }
  const path = f.config ?? DEFAULT_CONFIG;
  const res = await fetch(new URL('/v1/agent/enroll', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: f.token }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    let msg = text;
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      /* not JSON: print it as it came */
    }
    io.err(`enroll failed: HTTP ${res.status}: ${msg}`);
    return res.status >= 400 && res.status < 500 ? EXIT.invalid : EXIT.failure;
  }
  const parsed = EnrollResponse.safeParse(JSON.parse(text));
  if (!parsed.success) {
    io.err(`enroll failed: unexpected answer: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return EXIT.failure;
  }
  const r = parsed.data;
  const config = AgentConfig.parse({
    url: base.origin,
    nodeId: r.nodeId,
    site: r.site,
    node: r.node,
    mqtt: r.mqtt,
    keys: r.keys,
    ...(r.report ? { report: r.report } : {}),
    ...(f['state-dir'] ? { stateDir: f['state-dir'] } : {}),
    enrolledAt: new Date().toISOString(),
  });
  await writeFileAtomic(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  io.out(`enrolled ${r.nodeId}; broker ${r.mqtt.url}; ${r.keys.length} signing key(s) pinned; config written to ${path}`);
  return EXIT.ok;
}
