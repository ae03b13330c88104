#!/usr/bin/env node
'use strict';
/*
 * `tablemq-jobs`: the operators' command for portal-jobs (`tablemq-jobs run clean-history`,
 * `tablemq-jobs --help`). It runs the code built in dist/ as it is: a one-shot command next to a
 * running broker must not rebuild (that took seconds of CPU and rewrote dist/ under the broker).
 */
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'portal-jobs', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(`tablemq-jobs: ${entry} does not exist; build once with \`npm run build\`\n`);
  process.exit(2);
}
require(entry);
