import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.test-support.ts';

/** The mosquitto binary, or null when this machine has none (tests then skip with that reason). */
export const MOSQUITTO_BIN =
  ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => spawnSync(p, ['-h']).status !== null && !spawnSync(p, ['-h']).error) ??
  null;
export const DYNSEC_PLUGIN =
  ['/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/mosquitto_dynamic_security.so', '/usr/local/lib/mosquitto_dynamic_security.so'].find(
    (p) => spawnSync('test', ['-f', p]).status === 0,
  ) ?? null;

/**
 * infra/mosquitto/mosquitto.conf's limits for a subscriber (its queue and in-flight window), so a
 * broker a test or bench starts queues what production's would, and a line Mosquitto refuses fails it.
 */
export function infraBrokerLimits(): string {
  const conf = readFileSync(fileURLToPath(new URL('../../infra/mosquitto/mosquitto.conf', import.meta.url)), 'utf8');
  return conf
    .split('\n')
    .filter((l) => /^(max_queued_messages|max_inflight_messages|max_packet_size) /.test(l))
    .join('\n');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * A mosquitto this test owns: its own config, port and temp dir; stopped by PID, never by name.
 * `confBody` is appended after the listener line (e.g. allow_anonymous, the dynsec plugin).
 */
export class OwnMosquitto {
  readonly dir = mkdtempSync(join(tmpdir(), 'lvsfleet-mosq-'));
  readonly conf = join(this.dir, 'mosquitto.conf');
  proc: ChildProcess | null = null;
  output = '';
  private constructor(readonly port: number) {}

  /** `port`: its listener's, when the caller took it with others (`freePorts`); a free one by default. */
  static async create(confBody: (dir: string) => string, port?: number): Promise<OwnMosquitto> {
    if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed');
    const m = new OwnMosquitto(port ?? (await freePort()));
    writeFileSync(m.conf, `listener ${m.port} 127.0.0.1\npersistence false\n${confBody(m.dir)}\n`);
    return m;
  }

  /**
   * A mosquitto with the dynamic-security plugin and infra/mosquitto's settings: no anonymous
   * clients, admin client `adminUser` made by `mosquitto_ctrl dynsec init`.
   */
  static async createWithDynsec(adminUser: string, adminPassword: string): Promise<OwnMosquitto> {
    if (!DYNSEC_PLUGIN) throw new Error('mosquitto_dynamic_security.so is not installed');
    return OwnMosquitto.create((dir) => {
      const file = join(dir, 'dynamic-security.json');
      const r = spawnSync('mosquitto_ctrl', ['dynsec', 'init', file, adminUser, adminPassword], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${r.stderr || r.stdout}`);
      // As root, mosquitto drops to user "mosquitto", which cannot write our 0700 temp dir.
      const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
      return `${asRoot}allow_anonymous false\nplugin ${DYNSEC_PLUGIN}\nplugin_opt_config_file ${file}\n${infraBrokerLimits()}`;
    });
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const p = spawn(MOSQUITTO_BIN!, ['-c', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stdout!.on('data', (b) => (this.output += b));
    p.stderr!.on('data', (b) => (this.output += b));
    const end = Date.now() + 10_000;
    while (!(await portOpen(this.port))) {
      if (p.exitCode !== null) throw new Error(`mosquitto exited ${p.exitCode}: ${this.output}`);
      if (Date.now() > end) throw new Error(`mosquitto did not listen on ${this.port}: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, 'SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
