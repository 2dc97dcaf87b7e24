// The real pairlink binary for the SDK's tests: started on a free port with a fresh
// SQLite file, stopped, restarted on the same port and database, paused and resumed.
// Plus the waiting helpers the tests share. Nothing here imitates the server.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const binary = process.env.PAIRLINK_BIN ?? join(repo, 'target', 'debug', 'pairlink');

/** How long a test waits for something before it fails (patience, not a timing claim). */
export const PATIENCE_MS = 15_000;

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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pairlink process. `start()` again after `stop()` serves the same port and database. */
export class Pairlink {
  constructor(args = []) {
    this.args = args;
    this.dir = mkdtempSync(join(tmpdir(), 'pairlink-sdk-js-'));
    this.child = null;
    this.log = '';
  }

  /** Starts pairlink `args` on a free port and waits until `/healthz` answers. */
  static async start(args = []) {
    const server = new Pairlink(args);
    server.port = await freePort();
    await server.start();
    return server;
  }

  get url() {
    return `ws://127.0.0.1:${this.port}`;
  }

  get http() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const args = ['serve', '--bind', `127.0.0.1:${this.port}`, '--database-url', `sqlite://${join(this.dir, 'p.db')}`];
    const child = spawn(binary, [...args, ...this.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr.on('data', (chunk) => {
      this.log += chunk;
    });
    for (let tries = 0; ; tries++) {
      if (child.exitCode !== null) throw new Error(`pairlink exited early:\n${this.log}`);
      try {
        if ((await fetch(`${this.http}/healthz`)).ok) return;
      } catch {
        // Not listening yet.
      }
      if (tries * 50 > PATIENCE_MS) throw new Error(`pairlink did not start:\n${this.log}`);
      await sleep(50);
    }
  }

  /** SIGTERM: pairlink closes every WebSocket with 1001 and exits. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  }

  /** Freezes the process: sockets stay open, nothing is answered. */
  pause() {
    this.child.kill('SIGSTOP');
  }

  resume() {
    this.child.kill('SIGCONT');
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fresh random UUID. */
export const newUuid = () => crypto.randomUUID();

/** An HS256 connection token for `--auth-secret secret` (docs/operations.md). */
export function signToken(secret, claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The next `name` event of `emitter` for which `accept` holds. */
export function next(emitter, name, accept = () => true, patience = PATIENCE_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      remove();
      reject(new Error(`no matching '${name}' event within ${patience} ms`));
    }, patience);
    const remove = emitter.on(name, (event) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      remove();
      resolve(event);
    });
  });
}

/** Resolves when `client.state.type` is `type` (at once if it already is). */
export function reach(client, type, patience = PATIENCE_MS) {
  if (client.state.type === type) return Promise.resolve(client.state);
  return next(client, 'state', (state) => state.type === type, patience);
}

/** Records every event of `names` on `emitter`, in order, as `[name, event]`. */
export function record(emitter, names) {
  const seen = [];
  for (const name of names) emitter.on(name, (event) => seen.push([name, event]));
  return seen;
}

/** Waits until `check()` is true, polling. */
export async function until(check, what, patience = PATIENCE_MS) {
  const deadline = Date.now() + patience;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(20);
  }
}

export { sleep };
