// Pre-builds the `lvsfleet` CLI (cloud/src/cli/main.ts) into plain ESM in dist/cli/esm/, so
// bin/lvsfleet.mjs starts without compiling TypeScript on the fly (tsx costs about 1.5 s of
// every run). Runs at `npm ci` through the `prepare` script, or by hand: `npm run build:cli`.
//
// - Our own code (cloud/ and shared/) is bundled, one chunk per lazily loaded command;
//   packages stay imports of node_modules, resolved by Node as usual.
// - The output sits three directories below the root, like cloud/src/db/client.ts, so a
//   path written relative to a source file there (`../../../migrations`) means the same.
// - inputs.json lists every file the build read; bin/lvsfleet.mjs uses the bundle only while
//   none of them is newer than it, and runs the sources through tsx otherwise.
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli', 'esm');
// Packages that must stay where npm put them: PGlite loads its WebAssembly and data files
// from beside its own modules.
const EXTERNAL = ['@electric-sql/pglite', '@electric-sql/pglite/*', 'raw-socket'];

// zod re-exports all of its ~60 error-message locales (`z.locales`, about 400 kB) from its entry,
// and bundling them makes every command that validates a spec parse them at start. Nothing here
// calls z.config() with another locale, so the bundle keeps English only (zod's default).
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';\n",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: join(root, 'cloud/src/cli/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  external: EXTERNAL,
  plugins: [zodEnglishOnly],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  metafile: true,
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS packages call require() for Node built-ins; give them one.
  banner: { js: "import { createRequire as __lvsfleetCreateRequire } from 'node:module';\nconst require = __lvsfleetCreateRequire(import.meta.url);" },
});
// Packages change only through npm, which runs this build again; the lock file stands for them.
const sources = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
const inputs = [...sources.map((f) => relative(root, join(root, f))), 'package.json', 'package-lock.json'].sort();
await writeFile(join(outdir, 'inputs.json'), `${JSON.stringify({ inputs }, null, 1)}\n`);
console.log(`wrote ${relative(root, outdir)}/ (${Object.keys(result.metafile.outputs).length} files from ${inputs.length} sources)`);
