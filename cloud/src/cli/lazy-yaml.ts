import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The yaml package, loaded on its first use: most commands never read or print YAML, and loading
 * it at start costs every call tens of milliseconds (`npm run bench:cli`). Required at run time,
 * so the bundle (cloud/build.mjs) leaves it in node_modules instead of loading it with the command.
 */
export function yaml(): typeof Yaml {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
