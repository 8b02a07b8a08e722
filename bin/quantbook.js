#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI lives in the compiled library (built by `npm install` via `prepare`).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('quantbook: the library is not built yet; run `npm run build` in ' + path.dirname(__dirname) + '\n');
  process.exit(2);
}
// A reader that stops early (`quantbook --help | head`) closes the pipe: that is not an error.
process.stdout.on('error', (err) => { if (err && err.code === 'EPIPE') process.exit(process.exitCode || 0); throw err; });
require(entry).main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(String(err && err.stack || err) + '\n'); process.exitCode = 1; },
);
