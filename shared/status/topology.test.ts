import { describe, expect, it } from 'vitest';
import { baseDoc } from '../site/site.test-support.ts';
import { validateSite } from '../site/validate.ts';
import { topologyOf } from './topology.ts';

describe('topology of IPv6 and dual-stack services', () => {
  it('prints IPv6 endpoints in brackets and lists each real server once per family it serves', () => {
    const d = baseDoc();
    d.spec.nodes[2].address6 = '2001:DB8::11';
    d.spec.nodes[3].address6 = '2001:db8::12';
    delete d.spec.services[0].vip;
    d.spec.services[0].vips = ['2001:db8::100', '10.99.0.100'];
    Object.assign(d.spec.services[1], { family: 6, realServers: [{ address: '2001:db8::21' }] });
    const r = validateSite(d);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const [web, mail] = topologyOf(r.site).services;
    expect(web.endpoint).toBe('tcp 10.99.0.100:80, tcp [2001:db8::100]:80');
    expect(web.group).toBe('VI_1');
    expect(web.realServers.map((s) => s.address)).toEqual(['10.99.0.11', '10.99.0.12', '10.99.0.13', '2001:db8::11', '2001:db8::12']);
    expect(mail.endpoint).toBe('fwmark 7 (IPv6)');
  });
});
