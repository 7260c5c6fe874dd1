import type { JWK } from 'jose';

/** How a private JWK is kept in `signing_keys.private_jwk` when a key secret is configured. */
interface SealedJwk {
  sealed: 'A256GCM';
  /** base64url of the 12-byte nonce and of the ciphertext with its tag. */
  iv: string;
  ct: string;
}

const INFO = new TextEncoder().encode('lvsfleet signing key seal v1');
const b64u = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const unb64u = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

/** AES-256-GCM key from the secret by HKDF-SHA256 (RFC 5869), through WebCrypto: the same on Node and workerd. */
async function sealingKey(secret: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: INFO }, base, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
}

/**
 * Seals a private JWK for storage (AES-256-GCM, RFC 5116; the kid is the additional data, so a
 * sealed key cannot be swapped into another key's row). Without a secret it is stored as it is.
 */
export async function sealJwk(jwk: JWK, kid: string, secret: string | undefined): Promise<JWK | SealedJwk> {
  if (!secret) return jwk;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(kid) },
    await sealingKey(secret),
    new TextEncoder().encode(JSON.stringify(jwk)),
  );
  return { sealed: 'A256GCM', iv: b64u(iv), ct: b64u(new Uint8Array(ct)) };
}

/** The private JWK of a stored row: opened with the secret when sealed, as it is when not. */
export async function openJwk(stored: unknown, kid: string, secret: string | undefined): Promise<JWK> {
  const s = stored as Partial<SealedJwk>;
  if (s?.sealed !== 'A256GCM') return stored as JWK;
  if (!secret) throw new Error(`signing key ${kid} is sealed: the key secret (SIGNING_KEY_SECRET) is not configured`);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: unb64u(s.iv!), additionalData: new TextEncoder().encode(kid) },
      await sealingKey(secret),
      unb64u(s.ct!),
    );
    return JSON.parse(new TextDecoder().decode(plain)) as JWK;
  } catch {
    throw new Error(`signing key ${kid} does not open with the configured key secret`);
  }
}
