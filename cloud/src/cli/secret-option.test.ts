import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { secretOption } from './secret-option.ts';
import { memoryIO } from './test-io.test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsfleet-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secretOption', () => {
  const url = 'postgres://lvsfleet:s3cret@db:5432/lvsfleet';
  writeFileSync(join(dir, 'db-url'), `${url}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'empty'), '\n');
  const io = memoryIO({ LVSFLEET_DATABASE_URL: 'postgres://from-env/x' }, '', dir);

  it('reads a file (relative to the working directory, trailing newline dropped) or the environment', () => {
    expect(secretOption(io, 'database-url', { file: 'db-url', env: 'LVSFLEET_DATABASE_URL' })).toBe(url);
    expect(secretOption(io, 'database-url', { env: 'LVSFLEET_DATABASE_URL' })).toBe('postgres://from-env/x');
    expect(secretOption(memoryIO({}), 'database-url', { env: 'LVSFLEET_DATABASE_URL' })).toBeUndefined();
  });

  it('still takes the flag, but not together with the file; a missing or empty file is a usage error', () => {
    expect(secretOption(io, 'database-url', { flag: 'postgres://flag/x', env: 'LVSFLEET_DATABASE_URL' })).toBe('postgres://flag/x');
    expect(() => secretOption(io, 'database-url', { flag: 'x', file: 'db-url', env: 'E' })).toThrow(UsageError);
    expect(() => secretOption(io, 'mqtt-url', { file: 'nope', env: 'E' })).toThrow(/--mqtt-url-file nope: ENOENT/);
    expect(() => secretOption(io, 'admin-token', { file: 'empty', env: 'E' })).toThrow(/is empty/);
  });
});
