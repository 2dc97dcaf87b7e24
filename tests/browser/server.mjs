// Starts a real pairlink process on a free port with a fresh SQLite database, and
// launches Debian's Chromium through playwright-core. Shared by the browser tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const binary = process.env.PAIRLINK_BIN ?? join(root, 'target', 'debug', 'pairlink');

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A running pairlink; `stop()` ends it and removes its database. */
export async function startPairlink(extraArgs = []) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pairlink-browser-'));
  const child = spawn(binary, [
    'serve', '--bind', `127.0.0.1:${port}`, '--database-url', `sqlite://${join(dir, 'pairlink.db')}`, ...extraArgs,
  ], { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`pairlink exited early:\n${log}`);
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (attempt > 300) throw new Error(`pairlink did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    base,
    ws: `ws://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.exitCode !== null ? resolve() : child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless. WebRTC's mDNS host-name hiding is off so that two
 * pages on one machine connect over plain host candidates without an mDNS responder. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
           '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
}
