import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client.ts';
import { nodeCredentials } from '../db/schema.ts';
import { checkPassword, hashPassword, issueNodeCredentials, verifyNodeCredentials } from './credentials.ts';
import { insertSite, seedsSite } from '../../test/fixtures.test-support.ts';

let d: Database;
beforeAll(async () => {
  d = await openDatabase({});
  await insertSite(d.db, seedsSite());
});
afterAll(() => d.close());

describe('password hashes', () => {
  it('salts every hash and checks only the right password', async () => {
    const a = await hashPassword('s3cret');
    const b = await hashPassword('s3cret');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$[\w-]+\$[\w-]+$/);
    expect(await checkPassword('s3cret', a)).toBe(true);
    expect(await checkPassword('s3cret ', a)).toBe(false);
    expect(await checkPassword('s3cret', 'plain$x$y')).toBe(false);
    expect(await checkPassword('s3cret', 'scrypt$AAAA$short')).toBe(false);
  });
});

describe('node credentials', () => {
  it('issues username = nodeId, stores only a hash, and verifies', async () => {
    const c = await issueNodeCredentials(d.db, 'bj-dc1.dr1');
    expect(c.username).toBe('bj-dc1.dr1');
    expect(c.password.length).toBeGreaterThanOrEqual(40);
    const [row] = await d.db.select().from(nodeCredentials).where(eq(nodeCredentials.nodeId, 'bj-dc1.dr1'));
    expect(row.passwordHash).not.toContain(c.password);
    expect(await verifyNodeCredentials(d.db, 'bj-dc1.dr1', c.password)).toBe(true);
    expect(await verifyNodeCredentials(d.db, 'bj-dc1.dr2', c.password)).toBe(false);
    expect(await verifyNodeCredentials(d.db, 'bj-dc1.dr1', 'wrong')).toBe(false);
    expect(await verifyNodeCredentials(d.db, 'bj-dc1.dr1', '')).toBe(false);
    expect(await verifyNodeCredentials(d.db, 'nobody.here', c.password)).toBe(false);
  });

  it('re-enrollment replaces the old password', async () => {
    const first = await issueNodeCredentials(d.db, 'bj-dc1.rs1');
    const second = await issueNodeCredentials(d.db, 'bj-dc1.rs1');
    expect(await verifyNodeCredentials(d.db, 'bj-dc1.rs1', first.password)).toBe(false);
    expect(await verifyNodeCredentials(d.db, 'bj-dc1.rs1', second.password)).toBe(true);
  });

  it('refuses a node that does not exist (foreign key)', async () => {
    await expect(issueNodeCredentials(d.db, 'bj-dc1.ghost')).rejects.toThrow();
  });
});
