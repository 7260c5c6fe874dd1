// Entry point of the agent bundle (`npm run build:agent` → dist/lvsfleet-agent.mjs and the chunks it imports on demand).
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
