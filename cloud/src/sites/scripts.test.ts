import { describe, expect, it } from 'vitest';
import type { Site } from '#shared/site/site.ts';
import { seedsSite } from '../../test/fixtures.test-support.ts';
import { changedScripts } from './scripts.ts';

/** The seeds with a misc check on rs1, a vrrp_script, a notify hook and a quorum hook. */
function withScripts(command = '/etc/lvsfleet/scripts/check-web'): Site {
  const s = structuredClone(seedsSite());
  const web = s.spec.services![0];
  web.quorumDown = '/etc/lvsfleet/scripts/page';
  web.realServers[0].healthCheck = { type: 'misc', command };
  s.spec.vrrpScripts = [{ name: 'chk', script: '/etc/lvsfleet/scripts/chk' }];
  s.spec.vrrp![0].notify = { master: '/etc/lvsfleet/scripts/master' };
  return s;
}

describe('changedScripts', () => {
  it('names every added command, by the path an operator wrote', () => {
    expect(changedScripts(seedsSite(), withScripts())).toEqual([
      'spec.vrrpScripts[0].script',
      'spec.vrrp[0].notify.master',
      'spec.services[0].quorumDown',
      'spec.services[0].realServers[0].healthCheck.command',
    ]);
    expect(changedScripts(null, withScripts())).toHaveLength(4);
  });

  it('names a changed command or user, not unrelated edits, reorders or removals', () => {
    const before = withScripts();
    expect(changedScripts(before, withScripts('rm -rf /'))).toEqual(['spec.services[0].realServers[0].healthCheck.command']);
    const asRoot = withScripts();
    asRoot.spec.vrrpScripts![0].user = 'root';
    expect(changedScripts(before, asRoot)).toEqual(['spec.vrrpScripts[0].script']);
    const edited = withScripts();
    edited.spec.services![0].realServers[1].weight = 7;
    edited.spec.services![0].realServers.reverse();
    expect(changedScripts(before, edited)).toEqual([]);
    expect(changedScripts(before, seedsSite())).toEqual([]);
  });
});
