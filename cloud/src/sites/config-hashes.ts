import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { NodeConfig, ResolvedService } from '#shared/config/node-config.ts';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { jsonEqual } from '#shared/util/json-equal.ts';
import { mayExceed } from './document-size.ts';

/** The canonical JSON of each resolved service object, which a site's configs and compiles share (CompileMemo). */
const serviceTexts = new WeakMap<ResolvedService, string>();

function serviceText(svc: ResolvedService): string {
  let text = serviceTexts.get(svc);
  if (text === undefined) serviceTexts.set(svc, (text = canonicalJson(svc)));
  return text;
}

/**
 * canonicalJson(config), the same text, with each service written once per service object: the
 * compiler hands both directors of a site the same objects for a service, and the next compile the
 * same ones again while the service is unchanged (`#shared/compiler/compile-memo.ts`). A director's
 * config is mostly its services (350 KB at 1,000 nodes, 3.5 MB at 10,000): a change of one real
 * server's weight writes that real server's service once instead of every service twice.
 */
export function configCanonicalJson(config: NodeConfig): string {
  let out = '';
  writeConfig(config, (part) => (out += part));
  return out;
}

/**
 * configCanonicalJson(config) and its hex SHA-256, the digest taken part by part as the text is
 * put together. The text stays a rope of its parts (the services' texts, kept whole, and the
 * punctuation between them) until something needs it flat: the outbox insert, once. Joining the
 * services and then hashing the result made two more whole copies of a director's config, each in
 * memory the process had not touched yet (V8 gives a string that size pages of its own, and a
 * page's first touch is a fault, 12 µs on the VMs this is measured on): for a one-real-server
 * change at 1,000 nodes, the two directors' texts, hashes and claims as the driver takes them cost
 * 522 minor faults and 7.8-8.5 ms of CPU, and 175 and 3.4-4.7 ms this way; at 10,000 nodes 5,188
 * and 89 ms, 1,722 and 27.
 */
export function hashedConfigText(config: NodeConfig): { text: string; hash: string } {
  const digest = createHash('sha256');
  let out = '';
  writeConfig(config, (part) => {
    digest.update(part);
    out += part;
  });
  return { text: out, hash: digest.digest('hex') };
}

/**
 * The size of configCanonicalJson(config) as UTF-8, counted part by part: a 10,000-node site's
 * director config is 3.5 MB, and measuring it as one text would flatten it into one more copy.
 */
export function configUtf8Bytes(config: NodeConfig): number {
  let bytes = 0;
  writeConfig(config, (part) => (bytes += Buffer.byteLength(part, 'utf8')));
  return bytes;
}

/** Hands `put` the canonical JSON of `config` in order, each service's text as one part. */
function writeConfig(config: NodeConfig, put: (part: string) => void): void {
  // A real server's config lists no services: one write of it is cheaper than one per member.
  if (!config.services?.length) return put(canonicalJson(config));
  const record = config as unknown as Record<string, unknown>;
  let first = true;
  for (const k of Object.keys(record).sort()) {
    const v = record[k];
    // What JSON leaves out of an object (a config is plain JSON, so this is for exactness only).
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    put(`${first ? '{' : ','}${JSON.stringify(k)}:`);
    first = false;
    if (k === 'services' && Array.isArray(v)) {
      put('[');
      (v as ResolvedService[]).forEach((svc, i) => {
        if (i) put(',');
        put(serviceText(svc));
      });
      put(']');
    } else put(canonicalJson(v));
  }
  put(first ? '{}' : '}');
}

/** The hex SHA-256 of a text (the same digest as sha256Hex's, computed synchronously). */
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Each node's config hash, and the canonical JSON of those that had to be serialised for it. */
export interface ConfigHashes {
  hashes: Map<string, string>;
  /** Canonical JSON of the configs the memo did not know; the others are serialised when something needs their text. */
  texts: Map<string, string>;
  /** The configs' size as JSON text, in characters. */
  bytes: number;
  /** Nodes whose config may be too large for a document (./document-size.ts `mayExceed`), with its size as JSON text in characters. */
  large: [node: string, chars: number][];
}

interface Seen {
  /** The config last hashed for the node (never changed after: the compiler's output is not mutated). */
  config: NodeConfig;
  /** Hex SHA-256 of the config's canonical JSON. */
  hash: string;
  /** Its size as JSON text, in characters. */
  size: number;
}

/**
 * Hashes compiled configs (hex SHA-256 of their canonical JSON) and remembers, per site and node,
 * the last config beside its hash. A config equal as JSON to the one remembered
 * (`#shared/util/json-equal.ts`) has the same canonical JSON and hash: an apply that changes one
 * real server's weight serialises the two directors' configs, not all 1,000, and compares the
 * rest without writing them out (about half the time of JSON.stringify, and no garbage). The
 * configs held are the objects the last apply compiled, which the site's remembered state
 * (./site-states.ts) holds too. Holds the sites of at most `maxBytes` of configs as JSON text
 * (least recently applied out first), so memory stays bounded.
 */
export class ConfigHashMemo {
  private readonly sites = new Map<string, { nodes: Map<string, Seen>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  hash(siteKey: string, configs: ReadonlyMap<string, NodeConfig>): ConfigHashes {
    const before = this.sites.get(siteKey);
    const nodes = new Map<string, Seen>();
    const hashes = new Map<string, string>();
    const texts = new Map<string, string>();
    let bytes = 0;
    const large: [string, number][] = [];
    for (const [node, config] of configs) {
      const seen = before?.nodes.get(node);
      let mine: Seen;
      if (seen && jsonEqual(seen.config, config)) mine = { config, hash: seen.hash, size: seen.size };
      else {
        // The canonical text has the same members and values as JSON.stringify's: the same length.
        const { text, hash } = hashedConfigText(config);
        texts.set(node, text);
        mine = { config, hash, size: text.length };
      }
      hashes.set(node, mine.hash);
      nodes.set(node, mine);
      bytes += mine.size;
      if (mayExceed(mine.size)) large.push([node, mine.size]);
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
    return { hashes, texts, bytes, large };
  }

  /** Bytes of configs held, as JSON text (for the tests of the bound). */
  get heldBytes(): number {
    return this.bytes;
  }

  private forget(siteKey: string, bytes = this.sites.get(siteKey)?.bytes ?? 0): void {
    if (this.sites.delete(siteKey)) this.bytes -= bytes;
  }
}
