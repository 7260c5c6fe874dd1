import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { killTestProcesses, startProcess, type TestProcess } from '../src/cli/process.test-support.ts';
import { freePorts } from '../../cloud/test/net.test-support.ts';

/**
 * The embedded stack for end-to-end tests, every part real on loopback: `lvsfleet serve` (PGlite,
 * aedes, publisher, ingest) and enrolled agents on the dry-run dataplane, each a process started
 * from bin/ as installed.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const start = (bin: string, args: string[], env: Record<string, string> = {}) => startProcess(process.execPath, [join(ROOT, 'bin', bin), ...args], env);

export interface EmbeddedStack {
  url: string;
  admin: string;
  dir: string;
  serve: TestProcess;
  api(path: string, init?: RequestInit): Promise<Response>;
  /** PUT the spec; answers the response (status not checked). */
  put(site: string, yaml: string, query?: string): Promise<Response>;
  /** Enrolls `node` of `site` and runs its agent on the dry-run dataplane. */
  agent(site: string, node: string): Promise<TestProcess>;
  /** `lvsfleet ARGS` against this cloud with the admin token. */
  cli(args: string[]): TestProcess;
  close(): Promise<void>;
}

export async function startEmbeddedStack(): Promise<EmbeddedStack> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsfleet-stack-'));
  const admin = `lvsf_e2e_${randomBytes(16).toString('hex')}`;
  const [port, mqttPort] = await freePorts(2);
  const url = `http://127.0.0.1:${port}`;
  const api = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: `Bearer ${admin}`, ...init.headers } });
  const serve = start('lvsfleet.mjs', ['serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', join(dir, 'cloud')], {
    LVSFLEET_ADMIN_TOKEN: admin,
  });
  await serve.waitForOutput(/lvsfleet serving on/, 0, 90_000);
  return {
    url,
    admin,
    dir,
    serve,
    api,
    put: (site, yaml, query = '') => api(`/v1/sites/${site}/spec${query}`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml }),
    async agent(site, node) {
      const tok = (await (await api(`/v1/sites/${site}/nodes/${node}/enrollment`, { method: 'POST' })).json()) as { token: string };
      const config = join(dir, `${node}.json`);
      const enroll = start('lvsfleet-agent.mjs', ['enroll', '--url', url, '--token', tok.token, '--config', config]);
      expect(await enroll.exited).toBe(0);
      return start('lvsfleet-agent.mjs', ['run', '--config', config, '--state-dir', join(dir, `${node}-state`), '--dataplane', 'dry-run']);
    },
    cli: (args) => start('lvsfleet.mjs', args, { LVSFLEET_URL: url, LVSFLEET_TOKEN: admin }),
    async close() {
      killTestProcesses();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
