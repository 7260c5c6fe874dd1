import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { connectDynsec, issueWithDynsec, probeDynsec, type Dynsec } from './dynsec.ts';
import { mayPublish, maySubscribe } from './acl.ts';
import { DYNSEC_PLUGIN, MOSQUITTO_BIN, OwnMosquitto } from '../../test/mosquitto.test-support.ts';
import { collect, connectAs, endQuietly, subscribeCodes } from '../../test/mqtt-client.test-support.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import { topics } from '#shared/wire/topics.ts';

const skip = !MOSQUITTO_BIN ? 'mosquitto is not installed' : !DYNSEC_PLUGIN ? 'mosquitto_dynamic_security.so is not installed' : false;
if (skip) console.log(`dynsec tests skipped: ${skip}`);

describe.skipIf(!!skip)('Mosquitto dynamic security (own mosquitto, infra/mosquitto settings)', () => {
  const admin = { username: 'lvsfleet-cloud', password: 'admin-pw-' + Math.random().toString(36).slice(2) };
  const dr1 = 'bj-dc1.dr1';
  const dr2 = 'bj-dc1.dr2';
  let m: OwnMosquitto;
  let dynsec: Dynsec;
  const clients: MqttClient[] = [];
  const connect = async (...a: Parameters<typeof connectAs>) => {
    const c = await connectAs(...a);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    m = await OwnMosquitto.createWithDynsec(admin.username, admin.password);
    await m.start();
    dynsec = await connectDynsec({ mqttUrl: m.url, ...admin });
    await dynsec.bootstrap(admin.username);
    await dynsec.bootstrap(admin.username); // idempotent
  });
  afterAll(async () => {
    for (const c of clients) await endQuietly(c);
    await dynsec?.close();
    await m?.dispose();
  });

  it('enrolls a node without a restart; it logs in only with its password and clientId', async () => {
    const issue = issueWithDynsec(async (_db, nodeId) => ({ username: nodeId, password: `pw-${nodeId}` }), dynsec);
    await issue(undefined as never, dr1);
    await issue(undefined as never, dr2);
    await expect(connectAs(m.url, dr1, 'wrong')).rejects.toThrow();
    await expect(connectAs(m.url, dr1, `pw-${dr1}`, { clientId: dr2 })).rejects.toThrow();
    await expect(connectAs(m.url, undefined, undefined)).rejects.toThrow();
    const c = await connect(m.url, dr1, `pw-${dr1}`);
    expect(c.connected).toBe(true);
  });

  it('refuses what acl.ts refuses: the same subscribe decisions, SUBACK 0x80 for the rest', async () => {
    const filters = [
      topics.desired(dr1),
      topics.desired(dr2),
      '#',
      '+/+/+/+/+',
      'lvsfleet/#',
      'lvsfleet/v1/nodes/+/desired',
      `lvsfleet/v1/nodes/${dr1}/#`,
      topics.status(dr1),
      '$SYS/#',
      '$CONTROL/dynamic-security/v1/response',
      `lvsfleet/v1/nodes/${dr1}/../${dr2}/desired`,
    ];
    const c = await connect(m.url, dr1, `pw-${dr1}`);
    const codes = await subscribeCodes(c, filters);
    expect(codes).toEqual(filters.map((f) => (maySubscribe(dr1, f) ? 1 : 128)));
    expect(codes[0]).toBe(1);
  });

  it('delivers only the node’s own desired document and drops its publishes to other topics', async () => {
    const cloud = await connect(m.url, admin.username, admin.password, { clientId: 'cloud-test' });
    const seen = collect(cloud);
    await cloud.subscribeAsync('lvsfleet/v1/nodes/#', { qos: 1 });
    await cloud.publishAsync(topics.desired(dr1), 'doc-1', { qos: 1, retain: true });
    await cloud.publishAsync(topics.desired(dr2), 'doc-2', { qos: 1, retain: true });
    const node = await connect(m.url, dr1, `pw-${dr1}`);
    const got = collect(node);
    await node.subscribeAsync(topics.desired(dr1), { qos: 1 });
    await waitFor(() => got.get(topics.desired(dr1)), { what: 'own desired', timeoutMs: 5000 });
    for (const t of [topics.status(dr2), topics.events(dr2), topics.desired(dr1), topics.desired(dr2)]) {
      expect(mayPublish(dr1, t)).toBe(false);
      await node.publishAsync(t, 'forged', { qos: 1, retain: true }).catch(() => {});
    }
    await node.publishAsync(topics.status(dr1), 'mine', { qos: 1, retain: true });
    await waitFor(() => seen.get(topics.status(dr1)), { what: 'own status', timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.get(topics.status(dr2))).toBeUndefined();
    expect(seen.get(topics.events(dr2))).toBeUndefined();
    expect(seen.get(topics.desired(dr1))!.map(String)).toEqual(['doc-1']);
    expect(seen.get(topics.desired(dr2))!.map(String)).toEqual(['doc-2']);
    expect([...got.keys()]).toEqual([topics.desired(dr1)]);
  });

  it('re-enrollment replaces the password', async () => {
    await dynsec.provisionNode(dr2, 'second-password');
    await expect(connectAs(m.url, dr2, `pw-${dr2}`)).rejects.toThrow();
    const c = await connect(m.url, dr2, 'second-password');
    expect(c.connected).toBe(true);
  });
});

describe.skipIf(!!skip)('infra/mosquitto/setup-dynsec.sh', () => {
  it('init + bootstrap give lvsfleet-cloud the node topics and deny everyone else by default', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('../../../infra/mosquitto/setup-dynsec.sh', import.meta.url));
    const pw = 'setup-' + Math.random().toString(36).slice(2);
    const m = await OwnMosquitto.createWithDynsec('lvsfleet-cloud', pw);
    try {
      const init = spawnSync('bash', [script, 'init', `${m.dir}/second.json`, pw], { encoding: 'utf8' });
      expect(init.status, init.stderr).toBe(0);
      await m.start();
      const boot = spawnSync('bash', [script, 'bootstrap', '127.0.0.1', String(m.port), pw], { encoding: 'utf8' });
      expect(boot.status, boot.stderr).toBe(0);
      const cloud = await connectAs(m.url, 'lvsfleet-cloud', pw, { clientId: 'cloud-after-setup' });
      const got = collect(cloud);
      expect(await subscribeCodes(cloud, ['lvsfleet/v1/nodes/+/status', '#'])).toEqual([1, 1]);
      await cloud.publishAsync(topics.status('s.n'), 'x', { qos: 1 });
      await waitFor(() => got.get(topics.status('s.n')), { what: 'cloud receives node topics', timeoutMs: 5000 });
      await endQuietly(cloud);
    } finally {
      await m.dispose();
    }
  });
});

describe.skipIf(!!skip)('probeDynsec', () => {
  it('finds the plugin on a dynsec broker and answers null on a plain one', async () => {
    const pw = 'probe-' + Math.random().toString(36).slice(2);
    const withPlugin = await OwnMosquitto.createWithDynsec('lvsfleet-cloud', pw);
    const plain = await OwnMosquitto.create(() => 'allow_anonymous true');
    try {
      await withPlugin.start();
      await plain.start();
      const d = await probeDynsec({ mqttUrl: withPlugin.url, username: 'lvsfleet-cloud', password: pw });
      expect(d).not.toBeNull();
      await d!.close();
      expect(await probeDynsec({ mqttUrl: withPlugin.url, username: 'lvsfleet-cloud', password: 'wrong' })).toBeNull();
      expect(await probeDynsec({ mqttUrl: plain.url, username: 'someone', password: 'x' })).toBeNull();
      expect(await probeDynsec({ mqttUrl: plain.url })).toBeNull();
    } finally {
      await withPlugin.dispose();
      await plain.dispose();
    }
  });
});
