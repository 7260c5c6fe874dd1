// Entry point of the single-file bundle (`npm run build:agent` → dist/lvsfleet-agent.mjs).
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
