#!/usr/bin/env node
// Starts the CLI from the pre-built bundle in dist/cli/esm/ (cloud/build.mjs, run by `npm ci`
// as `prepare`) while it is at least as new as every source file it was built from; otherwise,
// or with LVSFLEET_FROM_SOURCE=1, runs the TypeScript sources through tsx, so an edited
// checkout never runs stale code. The bundle saves tsx's on-the-fly compilation at every start.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Plain paths, not URLs: statSync converts every URL back to a path, and for the ~200 inputs
// that conversion cost more than the stats themselves (npm run bench:cli).
const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'dist/cli/esm/main.js');

function bundleIsFresh() {
  if (process.env.LVSFLEET_FROM_SOURCE === '1') return false;
  try {
    const built = statSync(bundle).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(join(root, 'dist/cli/esm/inputs.json'), 'utf8'));
    return inputs.length > 0 && inputs.every((f) => statSync(join(root, f)).mtimeMs <= built);
  } catch {
    return false; // no bundle, or a source it was built from is gone
  }
}

let main;
if (bundleIsFresh()) ({ main } = await import(pathToFileURL(bundle).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cloud/src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
