#!/usr/bin/env node
// Entry point of the `platform` command: runs the compiled CLI.
import { main } from '../dist/core/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
