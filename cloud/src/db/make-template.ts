/**
 * `npm run db:template` (also run by `postinstall`): makes the pre-initialised PGlite data
 * directory a first `lvsfleet serve` loads instead of running initdb (see ./pglite-template.ts).
 */
import { MIGRATIONS_DIR } from './client.ts';
import { makeTemplate, templateDataDir } from './pglite-template.ts';

const started = performance.now();
const file = await makeTemplate(MIGRATIONS_DIR);
console.log(`PGlite template: ${file} and ${templateDataDir(MIGRATIONS_DIR)}/ (${((performance.now() - started) / 1000).toFixed(1)} s)`);
