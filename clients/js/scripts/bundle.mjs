// Builds the SDK into one browser ES module with esbuild (no dependencies, nothing
// loaded at run time). Two destinations:
//   node scripts/bundle.mjs dist     -> dist/pairlink-client.browser.js (in the npm package)
//   node scripts/bundle.mjs console  -> src/console/assets/pairlink-client.js, which the
//                                       pairlink binary embeds for its console and phone page
// The console copy is committed, so that `cargo build` needs no npm; test/bundle.test.mjs
// fails when it differs from a fresh build.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');
export const consoleCopy = join(root, '..', '..', 'src', 'console', 'assets', 'pairlink-client.js');

const banner = `// @pairlink/client, protocol v2: the same code as clients/js/src, bundled by
// \`npm run build:console\` in clients/js. Do not edit: change clients/js/src and rebuild.`;

/** The browser bundle as text: readable (not minified), or minified for measuring its size. */
export async function browserBundle({ minify = false } = {}) {
  const result = await build({
    entryPoints: [join(root, 'src', 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    legalComments: 'none',
    banner: minify ? {} : { js: banner },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const where = process.argv[2];
  const destination = { dist: join(root, 'dist', 'pairlink-client.browser.js'), console: consoleCopy }[where];
  if (!destination) {
    console.error('usage: node scripts/bundle.mjs dist|console');
    process.exit(2);
  }
  writeFileSync(destination, await browserBundle());
  console.log(`wrote ${destination}`);
}
