import { describe, expect, it } from 'vitest';
import type { VrrpState } from '#shared/wire/status.ts';
import { HOLD_UNSYNCED_MS, syncDaemonsFor, syncTransitionActions } from './sync-daemons.ts';

const STATES: VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];

describe('connection sync across transitions', () => {
  it('both daemons in every running state, none in INIT or STOP', () => {
    expect(STATES.map((s) => [s, syncDaemonsFor(s)])).toEqual([
      ['INIT', []],
      ['BACKUP', ['master', 'backup']],
      ['MASTER', ['master', 'backup']],
      ['FAULT', ['master', 'backup']],
      ['STOP', []],
    ]);
  });

  it('a move between running states starts or stops no daemon', () => {
    for (const from of ['BACKUP', 'MASTER', 'FAULT'] as const)
      for (const to of ['BACKUP', 'MASTER', 'FAULT'] as const) expect(syncTransitionActions(from, to).filter((a) => a.type === 'sync-daemon')).toEqual([]);
  });

  it('the hold: on from the start and whenever MASTER is left, timed release on MASTER, released at STOP', () => {
    expect(syncTransitionActions('INIT', 'BACKUP')).toEqual([
      { type: 'sync-daemon', daemons: ['master', 'backup'] },
      { type: 'hold-unsynced', releaseAfterMs: null },
    ]);
    expect(syncTransitionActions('INIT', 'MASTER')).toEqual([
      { type: 'sync-daemon', daemons: ['master', 'backup'] },
      { type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS },
    ]);
    expect(syncTransitionActions('BACKUP', 'MASTER')).toEqual([{ type: 'hold-unsynced', releaseAfterMs: HOLD_UNSYNCED_MS }]);
    expect(syncTransitionActions('MASTER', 'BACKUP')).toEqual([{ type: 'hold-unsynced', releaseAfterMs: null }]);
    expect(syncTransitionActions('MASTER', 'FAULT')).toEqual([{ type: 'hold-unsynced', releaseAfterMs: null }]);
    // Already held: BACKUP ⇄ FAULT changes nothing.
    expect(syncTransitionActions('BACKUP', 'FAULT')).toEqual([]);
    expect(syncTransitionActions('FAULT', 'BACKUP')).toEqual([]);
    expect(syncTransitionActions('MASTER', 'STOP')).toEqual([
      { type: 'sync-daemon', daemons: [] },
      { type: 'hold-unsynced', releaseAfterMs: 0 },
    ]);
  });

  it('the hold outlasts the longest wait of a part-filled IPVS sync buffer (2 s + a 1 s check)', () => {
    expect(HOLD_UNSYNCED_MS).toBeGreaterThan(3000);
  });
});
