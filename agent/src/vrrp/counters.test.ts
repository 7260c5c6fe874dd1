import { afterEach, describe, expect, it } from 'vitest';
import { compileNode } from '#shared/compiler/compile.ts';
import { validateSite } from '#shared/site/validate.ts';
import { waitFor } from '#shared/util/wait-for.test-support.ts';
import type { VrrpHost } from '../dataplane/vrrp-host.ts';
import { internetChecksum } from './checksum.ts';
import { encodeAdvert, encodeIpPacket, type EncodeInput } from './codec.ts';
import { startVrrp, type VrrpRunner } from './driver.ts';
import { MemoryLan } from './sim/memory-lan.ts';

function site(vrrp: Record<string, unknown>) {
  const r = validateSite({
    apiVersion: 'lvsfleet/v1',
    kind: 'Site',
    metadata: { name: 'lab' },
    spec: {
      nodes: [
        { name: 'd1', role: 'director', address: '10.99.0.11', interface: 'eth0' },
        { name: 'd2', role: 'director', address: '10.99.0.12', interface: 'eth0' },
      ],
      vrrp: [
        {
          name: 'VI_1',
          vrid: 51,
          vips: ['10.99.0.50/32'],
          members: [
            { node: 'd1', priority: 150 },
            { node: 'd2', priority: 100 },
          ],
          garp: { masterDelay: '0s' },
          ...vrrp,
        },
      ],
    },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.site;
}

const runners: VrrpRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

/** A host on the LAN whose receive path the test can also feed with packets of its own. */
function tapped(lan: MemoryLan, address: string): { host: VrrpHost; inject: (pkt: Buffer) => void } {
  const host = lan.host(address);
  let rx: ((p: Buffer) => void) | null = null;
  return {
    host: {
      ...host,
      openChannel: (o, onPacket, onError) => {
        rx = onPacket;
        return host.openChannel(o, onPacket, onError);
      },
    },
    inject: (pkt) => rx!(pkt),
  };
}

async function start(s: ReturnType<typeof site>, name: 'd1' | 'd2', host: VrrpHost) {
  const cfg = compileNode(s, name);
  const r = await startVrrp({ nodeId: `lab.${name}`, node: cfg.node, config: cfg.vrrp, host, emit: () => {}, log: () => {} });
  runners.push(r);
  return r;
}

const counters = (r: VrrpRunner) => r.instances()[0].counters;

describe('keepalived statistics kept by the VRRP runtime', () => {
  it('adverts sent and received, become/release master and priority 0 across a failover and back', async () => {
    const s = site({ version: 3, advertInterval: '50ms' });
    const lan = new MemoryLan();
    const d1 = await start(s, 'd1', lan.host('10.99.0.11'));
    // d2 starts once d1 is master. Started together, both begin in BACKUP and their master-down
    // timers differ by the priorities' skew alone, 10 ms at this interval (RFC 5798 §6.1): a
    // loaded machine that ran d1's timer late let d2 become master too.
    await waitFor(() => d1.status()[0].state === 'MASTER', { what: 'd1 MASTER' });
    const d2 = await start(s, 'd2', lan.host('10.99.0.12'));
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP' && counters(d2).advert_rcvd >= 3, {
      what: 'd1 MASTER, d2 BACKUP hearing it',
    });
    expect(counters(d1)).toMatchObject({ become_master: 1, release_master: 0, pri_zero_sent: 0 });
    expect(counters(d1).advert_sent).toBeGreaterThanOrEqual(3);
    expect(counters(d2)).toMatchObject({ become_master: 0, advert_sent: 0 });

    // FAULT on d1: it sends priority 0 and releases; d2 takes over.
    lan.setLink('10.99.0.11', 'eth0', false);
    await waitFor(() => d1.status()[0].state === 'FAULT' && d2.status()[0].state === 'MASTER', { what: 'd1 FAULT and d2 MASTER' });
    expect(counters(d1)).toMatchObject({ become_master: 1, release_master: 1, pri_zero_sent: 1 });
    expect(counters(d2)).toMatchObject({ become_master: 1, pri_zero_rcvd: 1 });

    lan.setLink('10.99.0.11', 'eth0', true);
    await waitFor(() => d1.status()[0].state === 'MASTER' && d2.status()[0].state === 'BACKUP', { what: 'd1 MASTER again' });
    expect(counters(d1).become_master).toBe(2);
    expect(counters(d2).release_master).toBe(1);
    // Nothing on this LAN was malformed.
    const { ip_ttl_err, packet_len_err, invalid_type_rcvd, addr_list_err, auth_failure } = counters(d2);
    expect({ ip_ttl_err, packet_len_err, invalid_type_rcvd, addr_list_err, auth_failure }).toEqual({
      ip_ttl_err: 0,
      packet_len_err: 0,
      invalid_type_rcvd: 0,
      addr_list_err: 0,
      auth_failure: 0,
    });
  });

  it('bad adverts count against the instance owning their VRID, by keepalived reason', async () => {
    const s = site({ version: 2, advertInterval: '1s', auth: { type: 'PASS', password: 'secret' } });
    const lan = new MemoryLan();
    const d2 = tapped(lan, '10.99.0.12');
    const r = await start(s, 'd2', d2.host);
    const base: EncodeInput = {
      version: 2,
      vrid: 51,
      priority: 150,
      intervalMs: 1000,
      addresses: ['10.99.0.50'],
      password: 'secret',
      source: '10.99.0.11',
      destination: '224.0.0.18',
    };
    const send = (over: Partial<EncodeInput> = {}, ttl = 255, mangle?: (vrrp: Buffer) => void) => {
      const vrrp = encodeAdvert({ ...base, ...over });
      if (mangle) {
        mangle(vrrp);
        vrrp.writeUInt16BE(0, 6);
        vrrp.writeUInt16BE(internetChecksum(vrrp), 6); // v2: over the VRRP message alone
      }
      d2.inject(encodeIpPacket(vrrp, base.source, base.destination, 0, ttl));
    };
    send({}, 64); // TTL
    send({ intervalMs: 2000 }); // advert interval
    send({ password: 'wrong' }); // auth failure
    send({ password: null }); // auth type mismatch (none, expecting PASS)
    send({}, 255, (v) => (v[4] = 7)); // unknown auth type
    send({}, 255, (v) => (v[0] = 0x22)); // type 2
    send({ addresses: ['10.99.0.50', '10.99.0.51'] }); // accepted, address list differs
    send({ vrid: 52 }, 64); // nobody's VRID: not counted on VI_1
    send({ priority: 0 }); // a valid priority-0 advert
    expect(counters(r)).toMatchObject({
      ip_ttl_err: 1,
      advert_interval_err: 1,
      auth_failure: 1,
      authtype_mismatch: 1,
      invalid_authtype: 1,
      invalid_type_rcvd: 1,
      addr_list_err: 1,
      advert_rcvd: 2,
      pri_zero_rcvd: 1,
    });
    expect(r.drops()).toMatchObject({ ttl: 2, interval: 1, auth: 3, type: 1 });
  });
});
