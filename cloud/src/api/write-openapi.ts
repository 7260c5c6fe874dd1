// tsx cloud/src/api/write-openapi.ts FILE: writes the app's OpenAPI document to FILE (for `npm run lint:openapi`,
// which lints it with Redocly). The document comes from the routes alone, so the app is built
// without a database; nothing here answers a request.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Db } from '../db/client.ts';
import { createApp } from './app.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx cloud/src/api/write-openapi.ts FILE');
  process.exit(2);
}
const app = createApp({
  db: {} as Db,
  // The Node server's metrics, so /metrics is documented as `lvsfleet serve` serves it.
  metrics: { middleware: (_c, next) => next(), render: async () => ({ contentType: 'text/plain', body: '' }) },
});
const res = await app.request('http://127.0.0.1:8080/openapi.json');
if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(await res.json(), null, 2)}\n`);
console.log(`wrote ${out}`);
