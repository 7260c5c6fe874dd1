#!/usr/bin/env node
// Runs the agent from source through tsx; `npm run build:agent` makes a single-file bundle instead.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../agent/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
