#!/usr/bin/env node
// The `meshmeet` command (package.json "bin"): runs the TypeScript CLI through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
process.env.MESHMEET_CLI = '1';
await import('../src/cli/meshmeet.ts');
