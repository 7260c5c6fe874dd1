import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { parseDuration } from '#shared/util/duration.ts';
import { parseFlags, UsageError, withUsage } from '../args.ts';
import type { CliIO } from '../io.ts';
import { logLine } from '../../server/log-line.ts';
import { secretOption } from '../secret-option.ts';
import { parseRetentionDays } from '../../retention/horizon.ts';
import { startProfile } from '../../server/start-profile.ts';
import { ServeError, startServer, type RunningServer } from '../../server/start.ts';

function port(value: string | undefined, dflt: number, flag: string): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number 0–65535, not "${value}"`);
  return n;
}

/** `--webhook-timeout`: 1s to 60s; longer would let one slow receiver hold every other delivery back. */
function webhookTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null || ms < 1000 || ms > 60_000) throw new UsageError(`--webhook-timeout must be a duration from 1s to 60s, like 5s, not "${value}"`);
  return ms;
}

/** `--event-retention-days`: whole days of events kept, 0 for every event. */
function retentionDays(value: string | undefined): number {
  try {
    return parseRetentionDays(value, '--event-retention-days');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function onOff(value: string | undefined, flag: string): boolean {
  if (value === undefined || value === 'on') return true;
  if (value === 'off') return false;
  throw new UsageError(`${flag} must be on or off, not "${value}"`);
}

/** The banner a newcomer sees after `npm start`. */
export function banner(s: RunningServer, o: { dataDir: string; adminFromEnv: boolean; publisher: boolean }): string {
  const lines = [
    `lvsfleet serving on ${s.url}`,
    `  database: ${s.database === 'pglite' ? `embedded PostgreSQL (PGlite) in ${o.dataDir}` : 'PostgreSQL'}`,
    `  mqtt:     ${s.mqttUrl}`,
  ];
  if (!o.publisher) lines.push('  publisher: off (API only)');
  if (s.newAdminToken) {
    lines.push(
      '',
      `admin token (shown once; saved to ${s.adminTokenFile}, mode 0600):`,
      `  ${s.newAdminToken}`,
      '',
      'try:',
      `  export LVSFLEET_URL=${s.url} LVSFLEET_TOKEN=${s.newAdminToken}`,
      '  npx lvsfleet apply -f examples/seeds-lvs-dr.yaml',
    );
  } else if (o.adminFromEnv) lines.push('  admin token: LVSFLEET_ADMIN_TOKEN or --admin-token-file');
  else lines.push(`  admin token: in ${s.adminTokenFile}`);
  return lines.join('\n') + '\n';
}

/**
 * `lvsfleet serve`: API, status pages, publisher, ingest and the embedded broker in one process
 * until SIGINT/SIGTERM. A taken port is a clear error and exit 1. `--publisher off` makes an
 * API-only replica (it needs PostgreSQL, where another replica publishes).
 */
export async function run(argv: string[], io: CliIO, signals: NodeJS.EventEmitter = process): Promise<number> {
  return withUsage('serve', io, async () => {
    const { values } = parseFlags(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'database-url': { type: 'string' },
      'database-url-file': { type: 'string' },
      'mqtt-url': { type: 'string' },
      'mqtt-url-file': { type: 'string' },
      'admin-token-file': { type: 'string' },
      'public-mqtt-url': { type: 'string' },
      'mqtt-dynsec': { type: 'boolean' },
      'webhook-allow-private': { type: 'boolean' },
      'webhook-timeout': { type: 'string' },
      'event-retention-days': { type: 'string' },
      publisher: { type: 'string' },
    });
    const dataDir = resolve(io.cwd, values['data-dir'] ?? '.lvsfleet');
    const log = (line: string) => io.stderr(logLine(line));
    const adminToken = secretOption(io, 'admin-token', { file: values['admin-token-file'], env: 'LVSFLEET_ADMIN_TOKEN' });
    const options = {
      port: port(values.port, 8080, '--port'),
      host: values.host ?? '127.0.0.1',
      dataDir,
      databaseUrl: secretOption(io, 'database-url', { flag: values['database-url'], file: values['database-url-file'], env: 'LVSFLEET_DATABASE_URL' }),
      mqttUrl: secretOption(io, 'mqtt-url', { flag: values['mqtt-url'], file: values['mqtt-url-file'], env: 'LVSFLEET_MQTT_URL' }),
      mqttPort: port(values['mqtt-port'], 18830, '--mqtt-port'),
      publicMqttUrl: values['public-mqtt-url'],
      mqttDynsec: values['mqtt-dynsec'],
      webhookAllowPrivate: values['webhook-allow-private'],
      webhookTimeoutMs: webhookTimeout(values['webhook-timeout']),
      eventRetentionDays: retentionDays(values['event-retention-days']),
      // The same secret as the Workers deployment's SIGNING_KEY_SECRET when both share a database.
      signingKeySecret: secretOption(io, 'signing-key-secret', { env: 'LVSFLEET_SIGNING_KEY_SECRET' }),
      adminToken,
      publisher: onOff(values.publisher, '--publisher'),
      log,
      profile: startProfile(io.env.LVSFLEET_START_PROFILE === '1', log),
    };
    if (!options.publisher && !options.databaseUrl)
      throw new UsageError('--publisher off needs --database-url (or LVSFLEET_DATABASE_URL): with the embedded database no other replica could publish');
    // The embedded PostgreSQL is WebAssembly: V8 compiles it with its baseline compiler
    // (Liftoff) and then recompiles the hot functions with TurboFan, which cost about 100 MiB
    // that stays resident and a second of CPU at every start, for queries that a control plane
    // of this size runs fast enough either way (README, Performance). Set before PGlite compiles
    // its module; LVSFLEET_WASM_TIER_UP=1 keeps V8's default.
    if (!options.databaseUrl && io.env.LVSFLEET_WASM_TIER_UP !== '1') setFlagsFromString('--liftoff-only');
    log(options.databaseUrl ? 'starting' : `starting; embedded database in ${dataDir} (a first start takes a few seconds)`);
    let server: RunningServer;
    try {
      server = await startServer(options);
    } catch (err) {
      if (err instanceof ServeError) {
        io.stderr(`lvsfleet serve: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    io.stdout(banner(server, { dataDir: values['data-dir'] ?? '.lvsfleet', adminFromEnv: !!adminToken, publisher: options.publisher }));
    const signal = await new Promise<string>((done) => {
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      const stop = (name: string) => {
        signals.off('SIGINT', onInt);
        signals.off('SIGTERM', onTerm);
        done(name);
      };
      signals.on('SIGINT', onInt);
      signals.on('SIGTERM', onTerm);
    });
    log(`${signal}: shutting down`);
    await server.close();
    log('stopped');
    return 0;
  });
}
