import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { nodeCredentials } from '../db/schema.ts';

/** scrypt cost (N=2^14, r=8, p=1: the interactive-login parameters of RFC 7914 §2's guidance). */
const PARAMS: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LEN, PARAMS, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$<salt b64url>$<hash b64url>` (the format documented on node_credentials.password_hash). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 3 || parts[0] !== 'scrypt') return false;
  const salt = Buffer.from(parts[1], 'base64url');
  const want = Buffer.from(parts[2], 'base64url');
  if (want.length !== KEY_LEN || salt.length === 0) return false;
  const got = await scrypt(password, salt);
  return timingSafeEqual(got, want);
}

/**
 * Makes broker credentials for a node (username = nodeId, 32 random bytes as password) and stores
 * only their scrypt hash, replacing any older credentials of that node. The node row must exist.
 */
export async function issueNodeCredentials(db: Db, nodeId: string): Promise<{ username: string; password: string }> {
  const password = randomBytes(32).toString('base64url');
  const passwordHash = await hashPassword(password);
  await db
    .insert(nodeCredentials)
    .values({ nodeId, passwordHash })
    .onConflictDoUpdate({ target: nodeCredentials.nodeId, set: { passwordHash, enrolledAt: new Date() } });
  return { username: nodeId, password };
}

// A fixed hash to compare against when the username is unknown, so a miss costs what a hit costs.
const DUMMY = hashPassword('lvsfleet-unknown-user');

/** True when `username` is an enrolled node and `password` matches its stored hash. */
export async function verifyNodeCredentials(db: Db, username: string, password: string): Promise<boolean> {
  if (!username || !password) return false;
  const rows = await db.select({ h: nodeCredentials.passwordHash }).from(nodeCredentials).where(eq(nodeCredentials.nodeId, username)).limit(1);
  if (!rows[0]) {
    await checkPassword(password, await DUMMY);
    return false;
  }
  return checkPassword(password, rows[0].h);
}
