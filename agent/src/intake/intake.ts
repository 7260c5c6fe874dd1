import { rm } from 'node:fs/promises';
import type { JWK } from 'jose';
import * as z from 'zod';
import { formatVersion, versionOf, type DesiredClaims, type DocumentVersion } from '#shared/wire/desired.ts';
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
  /**
   * This agent build's identity (a bundle's content hash, `AGENT_BUILD` in cli/io.ts); absent when it has none
   * (run from source). A document this build accepted is recorded as schema-checked by it, and a
   * boot of the same build from that cache skips the schema check (`VerifyExpect.schemaChecked`).
   */
  build?: string | null;
}

/**
 * The cache file: the document as received, and the version it was accepted as. The version is the
 * agent's one durable record of what it accepted (its replay bar): written with the document, by
 * one atomic, fsynced save, so the two can never disagree after a crash.
 */
interface CachedDoc {
  jws: string;
  revision: number;
  /** Absent for 0, and in caches written before overrides existed. */
  overridesVersion?: number;
  receivedAt: string;
  /**
   * The agent build whose schema took this very document (`IntakeOptions.build`). Written in the
   * same atomic save as the document, so it is about these bytes; trusted as the state dir is (the
   * signature is still checked at every boot).
   */
  schemaCheckedBy?: string;
}

/**
 * The cache file: `JSON.stringify(doc)`'s very bytes, with the JWS copied in as it is. A verified
 * JWS is three base64url parts and two dots (compact-jws.ts checks every character), which JSON
 * writes unescaped; the other members are never empty (a revision is). A director's 466 KB
 * document (1,000 nodes) as one JSON string was a new string of that size, about 1.4 ms for V8 to
 * make, then encoded to bytes again by the write.
 */
export function cacheFileBytes(doc: CachedDoc): Buffer {
  const { jws, ...rest } = doc;
  const head = '{"jws":"';
  const tail = `",${JSON.stringify(rest).slice(1)}`;
  // One buffer, the JWS written into it once: a buffer of its own, then concatenated, was a second
  // copy of a director's whole document at every save.
  const out = Buffer.allocUnsafe(head.length + jws.length + Buffer.byteLength(tail));
  let at = out.write(head, 0, 'latin1');
  at += out.write(jws, at, 'latin1');
  out.write(tail, at, 'utf8');
  return out;
}

/** What an older agent's separate revision file held; the intake reads it only when no cache file records a version. */
const legacyRevision = z.object({ revision: z.number().int().nullable(), overridesVersion: z.number().int().min(0).optional() });
const recorded = z.object({ revision: z.number().int().min(0), overridesVersion: z.number().int().min(0).optional() });

/**
 * Verified intake with an offline cache: a document is verified, then saved atomically with the
 * version it is accepted as (one backup kept) before anyone applies it. On boot, the cached
 * document is verified again (a corrupt file falls back to the backup) and handed out before the
 * broker is ever contacted.
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
  /** An older agent's revision file: removed at this process's first save, after which the cache records the version. */
  private readonly legacyFile: StateFile<z.infer<typeof legacyRevision>>;
  private legacyRemoved = false;
  private readonly pinned: PinnedKeys;

  constructor(private readonly o: IntakeOptions) {
    this.legacyFile = new StateFile(o.paths.revision, { schema: legacyRevision, log: o.log });
    this.pinned = new PinnedKeys(o.paths.keys, o.keys, o.log);
  }

  /** The pinned key set, for the status: the acknowledgement of a key rotation. */
  async trustReport(): Promise<TrustReport> {
    await this.pinned.current();
    return this.pinned.report();
  }

  /**
   * The newest accepted document version: from memory (a boot or a receive set it), else as the
   * state dir records it when boot found no cache that verifies (a signature that no longer checks
   * out, say): the cache's, else its backup's, else an older agent's revision file. A file that
   * records none (corrupt) is passed over, logged: the agent takes the broker's next signed
   * document rather than none ever again.
   */
  async acceptedVersion(): Promise<DocumentVersion | null> {
    if (!this.acceptedRead) {
      this.accepted = await this.recordedVersion();
      this.acceptedRead = true;
    }
    return this.accepted;
  }

  private async recordedVersion(): Promise<DocumentVersion | null> {
    for (const path of this.cacheFiles()) {
      const text = await readFileOrNull(path).catch(() => null);
      if (text === null) continue;
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // Not JSON: records no version, said below.
      }
      const r = recorded.safeParse(json);
      if (r.success) return versionOf(r.data);
      this.o.log(`state file ${path} records no version; trying the next`);
    }
    const f = await this.legacyFile.read({ revision: null });
    return f.revision === null ? null : versionOf({ revision: f.revision, overridesVersion: f.overridesVersion });
  }

  /** The cache, then its backup. */
  private cacheFiles(): string[] {
    return [this.o.paths.desired, `${this.o.paths.desired}.bak`];
  }

  /** The cached desired document, verified again; null when there is none usable. */
  async boot(): Promise<DesiredClaims | null> {
    for (const path of this.cacheFiles()) {
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
      // The backup is one version behind (the newest cache was corrupt). Booting from it lowers the
      // bar to its version, so the broker's retained newest document (verified once already) is
      // accepted again; anything older than the backup stays a replay.
      const keys = await this.pinned.current();
      const schemaChecked = !!this.o.build && doc.schemaCheckedBy === this.o.build;
      const r = await verifyDesired(doc.jws, keys.keys, { nodeId: this.o.nodeId, accepted: null, pinnedGeneration: keys.generation, schemaChecked });
      if (!r.ok) {
        this.o.log(`cache ${path} rejected: ${r.why}: ${r.detail}`);
        continue;
      }
      const v = versionOf(r.claims);
      if (r.pin) await this.pin(r.pin);
      this.accept(v);
      this.current = doc.jws;
      this.currentClaims = r.claims;
      this.o.log(`booting from cached ${formatVersion(v)} (${path}${schemaChecked ? ', its schema checked by this build at receipt' : ''})`);
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
    const v = versionOf(r.claims);
    const doc: CachedDoc = {
      jws,
      revision: v.revision,
      ...(v.overridesVersion ? { overridesVersion: v.overridesVersion } : {}),
      receivedAt: new Date().toISOString(),
      ...(this.o.build ? { schemaCheckedBy: this.o.build } : {}),
    };
    await writeFileAtomic(this.o.paths.desired, cacheFileBytes(doc), { backup: true });
    if (!this.legacyRemoved) {
      // Saved above with the version: an older agent's revision file now only says less.
      await rm(this.o.paths.revision, { force: true }).catch((e) => this.o.log(`${this.o.paths.revision}: ${(e as Error).message}`));
      this.legacyRemoved = true;
    }
    if (r.pin) await this.pin(r.pin);
    this.accept(v);
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

  /** The bar for what comes next; on disk already, in the cache this version came from. */
  private accept(v: DocumentVersion): void {
    this.accepted = v;
    this.acceptedRead = true;
  }
}
