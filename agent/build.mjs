// Bundles the agent for a host that has Node alone: dist/lvsfleet-agent.mjs (the entry) and
// dist/lvsfleet-agent-chunks/ (code it imports only when needed); copy both side by side.
// Split, not one file: V8 parses every byte of a module it loads, and a process keeps the source
// of every loaded module in its heap, so what a node does not run (the cloud link on a standalone
// node, VRRP and health checks on a real server, metrics without --metrics-listen, `enroll` and
// `status` when it runs) stays on disk until a dynamic import() asks for it.
// raw-socket (VRRP's native addon) stays external: Node resolves it the normal way, from a
// node_modules directory beside the bundle or in any parent directory (e.g. /opt/lvsfleet/
// node_modules/raw-socket for /opt/lvsfleet/lvsfleet-agent.mjs, or the repo's own node_modules
// for dist/lvsfleet-agent.mjs).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `node agent/build.mjs [OUTDIR]` (default dist/).
const outdir = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');
const CHUNKS = 'lvsfleet-agent-chunks';
const entry = join(outdir, 'lvsfleet-agent.mjs');

/**
 * zod's namespace export carries all of its ~50 message locales (360 KiB, a third of zod); the
 * agent's messages are English (zod's default), so `locales` here holds `en` only.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    const en = createRequire(join(root, 'package.json')).resolve('zod/v4/locales/en.js');
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) => (a.importer.includes('/zod/') ? { path: 'zod-locales', namespace: 'zod-en' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(en)};`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

/**
 * yaml's parser reads process.env.LOG_TOKENS (a debugging switch that prints every token) once
 * per token: ~84,000 environment lookups for a 1,000-service spec, 20 ms of the agent's start.
 * The bundle has it off.
 */
const yamlNoTokenLog = {
  name: 'yaml-no-token-log',
  setup(b) {
    b.onLoad({ filter: /[\\/]yaml[\\/]dist[\\/]parse[\\/]parser\.js$/ }, async (a) => {
      const text = await readFile(a.path, 'utf8');
      const needle = 'node_process.env.LOG_TOKENS';
      if (!text.includes(needle)) return { warnings: [{ text: `${needle} not found in ${a.path}: yaml changed, the per-token lookup stays` }] };
      return { contents: text.replaceAll(needle, 'false'), loader: 'js' };
    });
  },
};

/**
 * mqtt.js bundles what no agent can use: a SOCKS proxy (socks, with ip-address and smart-buffer),
 * taken only with a `socksProxy` option the agent never passes; the transports of WeChat and Alipay
 * mini-programs and a web worker's timers, taken only in a browser. About 140 of its chunk's
 * 525 KiB, parsed at every connect and held in the heap. Here each such module is one that throws,
 * naming what is missing, if anything ever calls it. WebSockets stay: an operator may hand agents a
 * ws:// or wss:// broker URL (--public-mqtt-url). A module not found where it is expected (mqtt.js
 * moved it) fails the build rather than bundle it unseen.
 */
const mqttAbsent = {
  // mqtt/build/lib/connect/index.js: the browser's transports by URL scheme.
  './wx': ['default'],
  './ali': ['default'],
  // connect/tcp.js and connect/tls.js: a SOCKS proxy, only with the socksProxy option.
  './socks': ['default'],
  // get-timer.js: a web worker's timers; Node's own are the ones used outside a browser.
  'worker-timers': ['setInterval', 'clearInterval'],
};
/** Which of them the build met (each must be met: checked after the build). */
const mqttStubbed = new Set();
const mqttWithoutUnusable = {
  name: 'mqtt-without-unusable',
  setup(b) {
    const names = Object.keys(mqttAbsent).map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    b.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (a) => {
      if (!/[\\/]mqtt[\\/]build[\\/]lib[\\/]/.test(a.importer)) return undefined;
      mqttStubbed.add(a.path);
      return { path: a.path, namespace: 'mqtt-absent' };
    });
    b.onLoad({ filter: /.*/, namespace: 'mqtt-absent' }, (a) => ({
      contents: mqttAbsent[a.path]
        .map((name) => {
          const fn = `() => { throw new Error(${JSON.stringify(`the agent's bundle leaves out mqtt.js's ${a.path.replace('./', '')}`)}); }`;
          return name === 'default' ? `export default ${fn};` : `export const ${name} = ${fn};`;
        })
        .join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * readable-stream (mqtt.js's and bl's streams) is a copy of Node's own streams, with a switch back
 * to them: READABLE_STREAM=disable makes it export Node's (its lib/ours/index.js). The bundle takes
 * that branch for good, as a module of Node's streams' exports: they are loaded already (every
 * socket is one), and the copy was 118 of the broker link's 384 KiB, parsed at every connect. The
 * build fails if readable-stream no longer has the switch.
 */
const nodeStreams = {
  name: 'node-streams',
  setup(b) {
    b.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'readable-stream', namespace: 'node-streams' }));
    b.onLoad({ filter: /.*/, namespace: 'node-streams' }, async () => {
      const own = await readFile(createRequire(join(root, 'package.json')).resolve('readable-stream/lib/ours/index.js'), 'utf8');
      if (!own.includes("process.env.READABLE_STREAM === 'disable'"))
        throw new Error('readable-stream has no READABLE_STREAM=disable switch any more: check nodeStreams');
      return {
        contents: "'use strict';\nconst Stream = require('node:stream');\nmodule.exports = { ...Stream };\nmodule.exports.default = module.exports;\n",
        loader: 'js',
      };
    });
  },
};

/** As long as the identity that replaces it: 32 hex digits. */
const BUILD_PLACEHOLDER = 'lvsfleet-agent-build-placeholder';

/**
 * The build's identity: SHA-256 of every file written (names and contents, the placeholder still
 * in them), 128 bits in hex, then put in place of the placeholder. Any change to the code the agent
 * runs, its dependencies' included, is another identity; the same sources build the same one.
 */
async function stampBuild() {
  const files = [entry, ...(await readdir(join(outdir, CHUNKS))).sort().map((f) => join(outdir, CHUNKS, f))];
  const hash = createHash('sha256');
  const texts = [];
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    texts.push(text);
    hash.update(`${f.slice(outdir.length)}\0${text.length}\0${text}`);
  }
  const id = hash.digest('hex').slice(0, BUILD_PLACEHOLDER.length);
  let stamped = 0;
  for (const [i, f] of files.entries())
    if (texts[i].includes(BUILD_PLACEHOLDER)) {
      await writeFile(f, texts[i].replaceAll(BUILD_PLACEHOLDER, id));
      stamped++;
    }
  if (stamped === 0) throw new Error(`agent build: no file holds ${BUILD_PLACEHOLDER}; AGENT_BUILD would be wrong`);
  return id;
}

// Stale chunks from an earlier build would be copied along with the new ones.
await rm(join(outdir, CHUNKS), { recursive: true, force: true });
await build({
  entryPoints: [{ in: join(root, 'agent/src/cli/bin.ts'), out: 'lvsfleet-agent' }],
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: `${CHUNKS}/[name]-[hash]`,
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['raw-socket'],
  plugins: [zodEnglishOnly, yamlNoTokenLog, mqttWithoutUnusable, nodeStreams],
  // This build's identity (agent/src/cli/io.ts, AGENT_BUILD): written in below, once the files exist.
  define: { __LVSFLEET_AGENT_BUILD__: JSON.stringify(BUILD_PLACEHOLDER) },
  // Whitespace and syntax only: names stay, so stack traces still say which function. Comments
  // go too — one non-Latin-1 character in a comment (an en dash) made V8 hold the whole source
  // as a two-byte string, twice its size in the heap.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: false,
  charset: 'ascii',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node built-ins; give each chunk one.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __lvsfleetCreateRequire } from 'node:module';\nconst require = __lvsfleetCreateRequire(import.meta.url);",
  },
});
const unmet = Object.keys(mqttAbsent).filter((p) => !mqttStubbed.has(p));
if (unmet.length) throw new Error(`agent build: mqtt.js no longer imports ${unmet.join(', ')} where mqttWithoutUnusable expects it`);
await chmod(entry, 0o755);
const buildId = await stampBuild();
const sizes = [(await stat(entry)).size];
for (const f of await readdir(join(outdir, CHUNKS)).catch(() => [])) sizes.push((await stat(join(outdir, CHUNKS, f))).size);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
  `wrote ${entry} (${kib(sizes[0])}, build ${buildId}) and ${sizes.length - 1} chunks in ${join(outdir, CHUNKS)} (${kib(sizes.slice(1).reduce((a, b) => a + b, 0))})`,
);
