// The package as a user gets it: `npm pack`, installed with `ws` into a fresh folder,
// imported from an .mjs file that pairs through a real pairlink (so `ws` is found from
// the app's own node_modules), and from a .ts file type-checked with tsc, strictly:
// a misuse of the types must fail to compile.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Pairlink } from './pairlink.mjs';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let app;
let server;
before(async () => {
  app = mkdtempSync(join(tmpdir(), 'pairlink-client-app-'));
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', app], { cwd: root });
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(app, filename), 'ws@8'], { cwd: app });
  server = await Pairlink.start();
});
after(async () => {
  await server?.dispose();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('the packed package installs and pairs from an .mjs file', async () => {
  writeFileSync(
    join(app, 'app.mjs'),
    `import { Controller, Display, PairlinkError, SUBPROTOCOL } from '@pairlink/client';
const [url] = process.argv.slice(2);
const uuid = crypto.randomUUID();
const open = (client) => new Promise((resolve, reject) => client.on('state', (s) => s.type === 'open' ? resolve() : s.type === 'closed' && reject(s.reason)));
const display = new Display({ url, uuid });
await open(display);
const controller = new Controller({ url, uuid });
await open(controller);
const draw = new Promise((resolve) => display.on('draw', resolve));
const status = await controller.difficulty(1);
console.log(JSON.stringify({ status, draw: await draw, subprotocol: SUBPROTOCOL, errors: typeof PairlinkError }));
display.close();
controller.close();
`,
  );
  const { stdout } = await run(process.execPath, ['app.mjs', server.url], { cwd: app, timeout: 20_000 });
  const result = JSON.parse(stdout);
  assert.equal(result.status, 'received');
  assert.equal(result.draw.difficulty, 1);
  assert.equal(result.subprotocol, 'pairlink.v2');
  assert.equal(result.errors, 'function');
});

const tsconfig = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
    types: [],
    skipLibCheck: false,
  },
};

async function typecheck(name, source) {
  writeFileSync(join(app, name), source);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: [name] }));
  return run(tsc, ['-p', 'tsconfig.json'], { cwd: app }).then(
    () => '',
    (error) => error.stdout || String(error),
  );
}

test('the typings check an app written in TypeScript', async () => {
  const errors = await typecheck(
    'app.ts',
    `import { Controller, Display, PairlinkError, type ConnectionState, type DifficultyStatus, type Draw, type PairingCode } from '@pairlink/client';
const display = new Display({ url: 'ws://127.0.0.1:8080', uuid: 'de358130-e94a-5692-8b09-d27007ad1944', pingInterval: 5000 });
display.on('draw', (draw: Draw) => console.log(draw.quizIds.map((id) => id + 1), draw.actionId, draw.sentAt?.toISOString()));
display.on('relay', (relay) => (relay.binary ? relay.data.byteLength : JSON.stringify(relay.data)));
const off = display.on('state', (state: ConnectionState) => {
  if (state.type === 'reconnecting') console.log(state.attempt, state.delay, state.reason.code);
  if (state.type === 'closed') console.log(state.reason.reason, state.reason.error?.code);
});
off();
const controller = new Controller({ url: 'ws://127.0.0.1:8080', code: 'K7M2QX', signal: AbortSignal.timeout(1000) });
const status: Promise<DifficultyStatus> = controller.difficulty(1);
status.catch((error: unknown) => error instanceof PairlinkError && error.code === 'no_content');
const code: Promise<PairingCode> = display.pairingCode();
code.then(({ qrPng, expiresAt }) => qrPng.byteLength + expiresAt.getTime());
controller.relay({ stick: [0.5, -1] });
controller.relay(new Uint8Array([1, 2]));
`,
  );
  assert.equal(errors, '');
});

test("the README's quick starts type-check", async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.equal(blocks.length, 2, 'a display and a controller');
  for (const [index, block] of blocks.entries()) {
    assert.equal(await typecheck(`readme-${index}.ts`, `${block}\nexport {};\n`), '', block);
  }
});

test('the typings reject misuse', async () => {
  const errors = await typecheck(
    'wrong.ts',
    `import { Controller, Display } from '@pairlink/client';
const display = new Display({ url: 'ws://127.0.0.1:8080' });
display.on('draw', (draw) => draw.quizzes);
new Controller({ url: 'ws://127.0.0.1:8080', uuid: 'x', code: 'K7M2QX' });
const status: 'delivered' = await new Controller({ url: 'ws://h', uuid: 'x' }).difficulty(1);
`,
  );
  assert.match(errors, /wrong\.ts\(2,/, 'a Display needs a uuid');
  assert.match(errors, /wrong\.ts\(3,.*quizzes/, 'a draw has no quizzes field');
  assert.match(errors, /wrong\.ts\(4,/, 'a uuid or a code, not both');
  assert.match(errors, /wrong\.ts\(5,/, 'difficulty() resolves to received or queued');
});
