#!/usr/bin/env node
// Prints jest's totals as one plain closing line ("tests: N passed, N failed, N skipped") so CI
// and people read the outcome at a glance. Reads the JSON written by `jest --json --outputFile`.
'use strict';
const fs = require('node:fs');
const file = process.argv[2] || '.services/jest-results.json';
if (!fs.existsSync(file)) {
  console.log('tests: 0 passed, 1 failed (no jest results were written)');
  process.exit(0);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
const failed = (r.numFailedTests || 0) + (r.numRuntimeErrorTestSuites || 0);
console.log(`tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
