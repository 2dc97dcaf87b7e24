// The console's copy of the SDK (src/console/assets/pairlink-client.js, embedded in the
// pairlink binary) must be exactly what `npm run build:console` makes from src/ now.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { browserBundle, consoleCopy } from '../scripts/bundle.mjs';

test('the console copy of the SDK is a fresh build of src/', async () => {
  const fresh = await browserBundle();
  const committed = readFileSync(consoleCopy, 'utf8');
  assert.ok(
    committed === fresh,
    'src/console/assets/pairlink-client.js is stale: run `npm run build:console` in clients/js',
  );
});

test('the browser build loads nothing from elsewhere and needs no Node module', async () => {
  const source = await browserBundle();
  assert.doesNotMatch(source, /^\s*import\s/m, 'no static imports: one self-contained module');
  assert.doesNotMatch(source, /:\/\//, 'no absolute URL (the console may load only its own files)');
  assert.doesNotMatch(source, /\brequire\(|node:/, 'no Node built-ins');
});
