import { createHash } from 'node:crypto';
import type { NodeConfig } from '#shared/config/node-config.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';

/** The hex SHA-256 of a text (the same digest as sha256Hex's, computed synchronously). */
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Each node's config hash, and the canonical JSON of those that had to be serialised for it. */
export interface ConfigHashes {
  hashes: Map<string, string>;
  /** Canonical JSON of the configs the memo did not know; the others are serialised when something needs their text. */
  texts: Map<string, string>;
  /** The configs' size as plain JSON text, in characters. */
  bytes: number;
}

interface Seen {
  /** JSON.stringify of the config: V8's own serialiser, several times faster than the canonical one. */
  plain: string;
  /** Hex SHA-256 of the config's canonical JSON. */
  hash: string;
}

/**
 * Hashes compiled configs (hex SHA-256 of their canonical JSON) and remembers, per site and node,
 * the last config's plain JSON.stringify text beside its hash. A config whose plain text is the
 * one remembered is the same JSON value, so it has the same canonical JSON and hash: an apply
 * that changes one real server's weight serialises canonically the two directors' configs, not
 * all 1,000 (about a fifth of the CPU of doing them all). The plain text is a key only: two equal
 * configs built with their keys in another order miss and are hashed canonically. Holds the sites
 * of at most `maxBytes` of plain text (least recently applied out first), so memory stays bounded.
 */
export class ConfigHashMemo {
  private readonly sites = new Map<string, { nodes: Map<string, Seen>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  hash(siteKey: string, configs: ReadonlyMap<string, NodeConfig>): ConfigHashes {
    const before = this.sites.get(siteKey);
    const nodes = new Map<string, Seen>();
    const hashes = new Map<string, string>();
    const texts = new Map<string, string>();
    let bytes = 0;
    for (const [node, cfg] of configs) {
      const plain = JSON.stringify(cfg);
      const seen = before?.nodes.get(node);
      let hash = seen?.plain === plain ? seen.hash : null;
      if (hash === null) {
        const text = canonicalJson(cfg);
        texts.set(node, text);
        hash = sha256Hex(text);
      }
      hashes.set(node, hash);
      nodes.set(node, { plain, hash });
      bytes += plain.length;
    }
    this.forget(siteKey);
    if (bytes <= this.maxBytes) {
      this.sites.set(siteKey, { nodes, bytes });
      this.bytes += bytes;
      // Map order is insertion order: the first site is the least recently hashed.
      for (const [key, site] of this.sites) {
        if (this.bytes <= this.maxBytes) break;
        this.forget(key, site.bytes);
      }
    }
    return { hashes, texts, bytes };
  }

  /** Bytes of plain text held (for the tests of the bound). */
  get heldBytes(): number {
    return this.bytes;
  }

  private forget(siteKey: string, bytes = this.sites.get(siteKey)?.bytes ?? 0): void {
    if (this.sites.delete(siteKey)) this.bytes -= bytes;
  }
}
