/**
 * The claims inside a compact JWS, read without checking its signature: for tests and benches
 * that follow which revision reached which node (the signing and intake tests check signatures).
 * Never for deciding anything a node or the cloud trusts.
 */
export function unverifiedClaims<T = { nodeId?: unknown; revision?: unknown }>(jws: string | Uint8Array): T {
  const text = typeof jws === 'string' ? jws : Buffer.from(jws).toString();
  return JSON.parse(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString()) as T;
}
