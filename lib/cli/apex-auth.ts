#!/usr/bin/env node
// The `apex-auth` command of the package (its `bin`); `--help` says what it does.
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
