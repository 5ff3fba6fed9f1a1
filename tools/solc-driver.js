#!/usr/bin/env node
// Lets py-solc-x (and so Brownie) run the npm solc-js build as if it were a native solc binary.
// py-solc-x calls `solc-vX --version` and `solc-vX --standard-json --allow-paths DIR` with the
// input on stdin; solcjs's own CLI refuses --allow-paths and prints a banner, so we answer directly.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const solc = require(path.join(root, 'node_modules', 'solc'));
const args = process.argv.slice(2);

if (args.includes('--version')) {
  // py-solc-x parses "Version: X.Y.Z+commit..." from this line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  process.stderr.write('solc-driver: only --version and --standard-json are supported\n');
  process.exit(2);
}

// Imports resolve inside the project and node_modules only, never elsewhere on disk.
const allowed = [root, path.join(root, 'node_modules')];
function findImports(importPath) {
  const candidates = [path.resolve(root, importPath), path.resolve(root, 'node_modules', importPath)];
  for (const candidate of candidates) {
    if (!allowed.some((dir) => candidate.startsWith(dir + path.sep))) continue;
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
