import type { JWK } from 'jose';
import * as z from 'zod';
import { MAX_TRUSTED_KEYS, PublicKeyJwk, type KeyTrust, type TrustReport } from '#shared/wire/key-trust.ts';
import { StateFile } from '../state/state-file.ts';

const Pinned = z.strictObject({ generation: z.number().int().min(0), keys: z.array(PublicKeyJwk).min(1).max(MAX_TRUSTED_KEYS) });
type Pinned = z.infer<typeof Pinned>;

/**
 * The signing keys the agent trusts (docs/architecture.md, "Key rotation"): the keys of its
 * enrollment (generation 0) until a verified document brings a newer key set, which replaces them
 * — a new key pinned before anything is signed with it, a retired one unpinned. Kept in the state
 * dir, written atomically with one backup, so a restart keeps trusting what it trusted.
 */
export class PinnedKeys {
  /** undefined until read; null when nothing newer than the enrollment keys was pinned. */
  private pinned: Pinned | null | undefined = undefined;
  private readonly file: StateFile<Pinned | null>;
  private readonly backup: StateFile<Pinned | null>;

  constructor(
    path: string,
    private readonly enrolled: JWK[],
    log: (line: string) => void,
  ) {
    this.file = new StateFile(path, { schema: Pinned.nullable(), log, backup: true, stringify: (v) => JSON.stringify(v) });
    this.backup = new StateFile(`${path}.bak`, { schema: Pinned.nullable(), log });
  }

  /** The pinned keys (read once from the state dir; a missing or corrupt file falls back to its backup, then to the enrollment keys). */
  async current(): Promise<{ generation: number; keys: JWK[] }> {
    if (this.pinned === undefined) this.pinned = (await this.file.read(null)) ?? (await this.backup.read(null));
    return this.pinned ?? { generation: 0, keys: this.enrolled };
  }

  /** Pins a verified key set; a set not newer than the pinned one changes nothing. */
  async pin(trust: KeyTrust): Promise<boolean> {
    if (trust.generation <= (await this.current()).generation) return false;
    const next: Pinned = { generation: trust.generation, keys: trust.keys.map((k) => k.jwk) };
    await this.file.write(next);
    this.pinned = next;
    return true;
  }

  /** What the status reports: the cloud's acknowledgement of a rotation. */
  report(): TrustReport {
    const p = this.pinned ?? { generation: 0, keys: this.enrolled };
    return { generation: p.generation, kids: p.keys.flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : [])) };
  }
}
