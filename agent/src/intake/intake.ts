import type { JWK } from 'jose';
import { z } from 'zod';
import { formatVersion, isNewer, versionOf, type DesiredClaims, type DocumentVersion } from '#shared/wire/desired.ts';
import type { KeyTrust, TrustReport } from '#shared/wire/key-trust.ts';
import { readFileOrNull, writeFileAtomic } from '../state/atomic-file.ts';
import type { StatePaths } from '../state/paths.ts';
import { StateFile } from '../state/state-file.ts';
import { PinnedKeys } from './pinned-keys.ts';
import { verifyDesired, type RejectWhy } from './verify.ts';

export interface Rejection {
  why: RejectWhy;
  detail: string;
  revision?: number;
}

export interface IntakeOptions {
  nodeId: string;
  /** The keys pinned at enrollment; a verified newer key set replaces them (kept in `paths.keys`). */
  keys: JWK[];
  paths: Pick<StatePaths, 'desired' | 'revision' | 'keys'>;
  onReject: (r: Rejection) => void;
  /** A newer key set was pinned: report it (the cloud waits for that acknowledgement). */
  onPinned?: (report: TrustReport) => void;
  log: (line: string) => void;
}

interface CachedDoc {
  jws: string;
  revision: number;
  receivedAt: string;
}

/**
 * Verified intake with an offline cache: a document is verified, then saved atomically (one
 * backup kept) and its revision persisted before anyone applies it. On boot, the cached document
 * is verified again (a corrupt file falls back to the backup) and handed out before the broker
 * is ever contacted.
 */
export class Intake {
  /**
   * The newest document version accepted (verified and cached): revision, then override
   * generation. Not the engine's `appliedRevision`: a revision is accepted before the engine
   * converges to it, and may never converge.
   */
  private accepted: DocumentVersion | null = null;
  private acceptedRead = false;
  /** The document in the cache: the broker re-delivers it (retained) on every reconnect. */
  private current: string | null = null;
  /** The claims of `current`: a re-signed copy of its revision must carry the same ones. */
  private currentClaims: DesiredClaims | null = null;
  private readonly revisionFile: StateFile<{ revision: number | null; overridesVersion?: number }>;
  private readonly pinned: PinnedKeys;

  constructor(private readonly o: IntakeOptions) {
    this.revisionFile = new StateFile(o.paths.revision, {
      // overridesVersion is absent in files written before overrides existed: read as 0.
      schema: z.object({ revision: z.number().int().nullable(), overridesVersion: z.number().int().min(0).optional() }),
      log: o.log,
      stringify: (v) => JSON.stringify(v),
    });
    this.pinned = new PinnedKeys(o.paths.keys, o.keys, o.log);
  }

  /** The pinned key set, for the status: the acknowledgement of a key rotation. */
  async trustReport(): Promise<TrustReport> {
    await this.pinned.current();
    return this.pinned.report();
  }

  /**
   * The newest accepted document version, from memory or the revision file. A corrupt file reads
   * as none (logged): the agent takes the broker's next signed document rather than none ever again.
   */
  async acceptedVersion(): Promise<DocumentVersion | null> {
    if (!this.acceptedRead) {
      const f = await this.revisionFile.read({ revision: null });
      this.accepted = f.revision === null ? null : { revision: f.revision, overridesVersion: f.overridesVersion ?? 0 };
      this.acceptedRead = true;
    }
    return this.accepted;
  }

  /** The cached desired document, verified again; null when there is none usable. */
  async boot(): Promise<DesiredClaims | null> {
    let accepted: DocumentVersion | null = null;
    try {
      accepted = await this.acceptedVersion();
    } catch (e) {
      this.o.log(`revision file unreadable (${(e as Error).message}); relying on the cached document`);
    }
    for (const path of [this.o.paths.desired, `${this.o.paths.desired}.bak`]) {
      const text = await readFileOrNull(path).catch(() => null);
      if (text === null) continue;
      let doc: CachedDoc;
      try {
        doc = JSON.parse(text) as CachedDoc;
        if (typeof doc.jws !== 'string') throw new Error('no jws');
      } catch (e) {
        this.o.log(`state file ${path} is corrupt (${(e as Error).message}); trying the backup`);
        continue;
      }
      // The backup may be one revision behind the revision file (the newest cache was corrupt).
      // Booting from it lowers the bar to its revision, so the broker's retained newest revision
      // (verified once already) is accepted again; anything older than the backup stays a replay.
      const keys = await this.pinned.current();
      const r = await verifyDesired(doc.jws, keys.keys, { nodeId: this.o.nodeId, accepted: null, pinnedGeneration: keys.generation });
      if (!r.ok) {
        this.o.log(`cache ${path} rejected: ${r.why}: ${r.detail}`);
        continue;
      }
      const v = versionOf(r.claims);
      if (accepted !== null && isNewer(v, accepted)) this.o.log(`cache ${formatVersion(v)} is ahead of the revision file (${formatVersion(accepted)})`);
      if (r.pin) await this.pin(r.pin);
      await this.persist(v);
      this.current = doc.jws;
      this.currentClaims = r.claims;
      this.o.log(`booting from cached ${formatVersion(v)} (${path})`);
      return r.claims;
    }
    return null;
  }

  /**
   * Verifies and stores a document from the broker; null when there is nothing to apply: the
   * very document already accepted (a retained re-delivery, not a replay), the accepted revision
   * re-signed with a newer key set (its keys are pinned, the config is what runs already), or a
   * rejection (reported through onReject).
   */
  async receive(jws: string): Promise<DesiredClaims | null> {
    if (jws === this.current) {
      this.o.log('desired document unchanged (retained re-delivery)');
      return null;
    }
    const keys = await this.pinned.current();
    const r = await verifyDesired(jws, keys.keys, {
      nodeId: this.o.nodeId,
      accepted: await this.acceptedVersion(),
      acceptedClaims: this.currentClaims,
      pinnedGeneration: keys.generation,
    });
    if (!r.ok) {
      this.o.log(`config rejected (${r.why}${r.rule ? `, ${r.rule}` : ''}): ${r.detail}`);
      this.o.onReject({ why: r.why, detail: r.detail, ...(r.revision !== undefined ? { revision: r.revision } : {}) });
      return null;
    }
    // The document first: should the agent stop before the keys are pinned, the cache still
    // verifies at boot (through its own chain) and pins them then.
    const doc: CachedDoc = { jws, revision: r.claims.revision, receivedAt: new Date().toISOString() };
    await writeFileAtomic(this.o.paths.desired, JSON.stringify(doc), { backup: true });
    if (r.pin) await this.pin(r.pin);
    await this.persist(versionOf(r.claims));
    this.current = jws;
    this.currentClaims = r.claims;
    if (r.rule === 'resigned') {
      this.o.log(`revision ${r.claims.revision} re-signed with key ${r.kid} (key set generation ${r.pin?.generation}): nothing to apply`);
      return null;
    }
    this.o.log(`accepted revision ${r.claims.revision} signed with key ${r.kid}`);
    return r.claims;
  }

  private async pin(trust: KeyTrust): Promise<void> {
    if (!(await this.pinned.pin(trust))) return;
    const report = this.pinned.report();
    this.o.log(`pinned key set generation ${report.generation}: ${trust.keys.map((k) => `${k.jwk.kid} (${k.state})`).join(', ')}`);
    this.o.onPinned?.(report);
  }

  /** Written only when it changed: a boot from the cache usually finds it already there. */
  private async persist(v: DocumentVersion): Promise<void> {
    await this.revisionFile.write(v.overridesVersion ? { revision: v.revision, overridesVersion: v.overridesVersion } : { revision: v.revision });
    this.accepted = v;
    this.acceptedRead = true;
  }
}
