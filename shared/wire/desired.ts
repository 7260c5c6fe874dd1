// The claims' schema is in ./desired-claims.ts, imported only where a document is checked: building
// it (the node config's schemas) was part of every agent start, which checks no schema when it
// boots from a cache this build checked. What every reader needs is here, without zod.
import type { DesiredClaims } from './desired-claims.ts';

export type { DesiredClaims };

/** What a document supersedes by: the revision, then the override generation (0 when absent). */
export interface DocumentVersion {
  revision: number;
  overridesVersion: number;
}

export const versionOf = (c: Pick<DesiredClaims, 'revision' | 'overridesVersion'>): DocumentVersion => ({
  revision: c.revision,
  overridesVersion: c.overridesVersion ?? 0,
});

/** a is newer than b: a higher revision, or the same revision with a higher override generation. */
export const isNewer = (a: DocumentVersion, b: DocumentVersion): boolean =>
  a.revision > b.revision || (a.revision === b.revision && a.overridesVersion > b.overridesVersion);

export const formatVersion = (v: DocumentVersion): string => `revision ${v.revision}${v.overridesVersion ? ` (overrides ${v.overridesVersion})` : ''}`;

export const JWS_ALG = 'EdDSA';
export const JWS_TYP = 'lvsfleet-desired+jws';

/**
 * The largest desired document an agent takes (the compact JWS, which is ASCII: bytes = characters).
 * A director's claims list every real server of its services: a 10,000-node site with two directors
 * is a 4.7 MB document each. It travels in one MQTT packet, which the brokers cap at 8 MiB
 * (`MAX_PACKET_BYTES` of cloud/src/mqtt/frame-limit.ts, the shipped Mosquitto and EMQX configs): this
 * leaves 64 KiB of it to the topic and the packet's header. The cloud refuses a spec that would make
 * a larger one (MAX_CONFIG_BYTES), rather than publish what a broker or its agent would refuse.
 */
export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024 - 64 * 1024;

/**
 * What a document holds beside the node's config, at most: the other claims (ids, revision, time),
 * the node's active overrides and the key set with its certificate chain, before base64url.
 */
const CLAIMS_BESIDE_CONFIG_BYTES = 256 * 1024;

/**
 * The largest compiled node config (as JSON, UTF-8) whose document stays within MAX_DOCUMENT_BYTES:
 * base64url makes 4 characters of 3 bytes.
 */
export const MAX_CONFIG_BYTES = Math.floor(((MAX_DOCUMENT_BYTES - 1024) * 3) / 4) - CLAIMS_BESIDE_CONFIG_BYTES;
