// Prints the size of the browser build, minified by esbuild and gzipped at level 9:
// what a page downloads. README.md gives the figures and how centrifuge-js was measured.
import { gzipSync } from 'node:zlib';
import { browserBundle } from './bundle.mjs';

const minified = Buffer.from(await browserBundle({ minify: true }));
const gzipped = gzipSync(minified, { level: 9 });
console.log(`browser build: ${minified.length} bytes minified, ${gzipped.length} bytes minified + gzip -9`);
