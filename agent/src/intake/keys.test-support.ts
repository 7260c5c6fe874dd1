import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair } from 'jose';
import { canonicalJson } from '#shared/util/canonical-json.ts';
import { JWS_TYP, type DesiredClaims } from '#shared/wire/desired.ts';
import { JWS_KEY_TYP, type KeyState, type KeyTrust, type PublicKeyJwk } from '#shared/wire/key-trust.ts';
import { configFor, NODES } from '../engine/engine.test-support.ts';

/** A signing key as the cloud makes one: Ed25519, kid = RFC 7638 thumbprint. */
export type TestKey = { priv: CryptoKey; pub: PublicKeyJwk; kid: string };

export async function testKey(): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  return { priv: privateKey as CryptoKey, pub: { kty: 'OKP', crv: 'Ed25519', x: exported.x!, kid }, kid };
}

/** The certificate `previous` signs for `next` (what `keys rotate` stores). */
export function certify(previous: TestKey, next: TestKey, payload: Record<string, unknown> = {}, headerKid = previous.kid): Promise<string> {
  const body = { previous: previous.kid, jwk: next.pub, issuedAt: '2026-01-01T00:00:00.000Z', ...payload };
  return new CompactSign(new TextEncoder().encode(canonicalJson(body)))
    .setProtectedHeader({ alg: 'EdDSA', kid: headerKid, typ: JWS_KEY_TYP })
    .sign(previous.priv);
}

export function trust(generation: number, keys: [TestKey, KeyState][], chain: string[] = []): KeyTrust {
  return { generation, keys: keys.map(([k, state]) => ({ state: state as Exclude<KeyState, 'retired'>, jwk: k.pub })), chain };
}

/** A desired document as the publisher signs it (canonical JSON payload). */
export function signDoc(k: TestKey, claims: unknown, kid = k.kid): Promise<string> {
  return new CompactSign(new TextEncoder().encode(canonicalJson(claims))).setProtectedHeader({ alg: 'EdDSA', kid, typ: JWS_TYP }).sign(k.priv);
}

const config = configFor({ nodes: NODES, services: [{ name: 'web', vip: '10.99.0.50', port: 80, realServers: [{ node: 'rs1' }] }] }, 'd1');

/** Claims of revision `revision` for t.d1; the same revision always has the same claims unless `extra` says otherwise. */
export const claimsOf = (revision: number, extra: Partial<DesiredClaims> = {}): DesiredClaims => ({
  nodeId: 't.d1',
  site: 't',
  revision,
  issuedAt: new Date(Date.UTC(2026, 0, 1, 0, revision)).toISOString(),
  config,
  ...extra,
});
