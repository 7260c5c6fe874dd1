// Bundles the agent into one ESM file a host runs with Node alone: dist/lvsfleet-agent.mjs.
// raw-socket (VRRP's native addon) stays external: Node resolves it the normal way, from a
// node_modules directory beside the bundle or in any parent directory (e.g. /opt/lvsfleet/
// node_modules/raw-socket for /opt/lvsfleet/lvsfleet-agent.mjs, or the repo's own node_modules
// for dist/lvsfleet-agent.mjs).
import { build } from 'esbuild';
import { chmod, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'lvsfleet-agent.mjs');

await build({
  entryPoints: [join(root, 'agent/src/cli/bin.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['raw-socket'],
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node built-ins; give them one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __lvsfleetCreateRequire } from 'node:module';\nconst require = __lvsfleetCreateRequire(import.meta.url);",
  },
});
await chmod(outfile, 0o755);
const { size } = await stat(outfile);
console.log(`wrote ${outfile} (${(size / 1024).toFixed(0)} KiB)`);
