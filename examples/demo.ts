/**
 * `npm run demo`: the auth-service emulator, the example shop service that
 * uses @apex/nest-auth, and a scripted session against them, every request
 * printed with its status. Exits 0 when every step answered as expected.
 * `npm run demo -- --serve` keeps both running and prints curl lines;
 * `npm run demo -- --replicas` runs two replicas of the shop on one Redis instead.
 */
import { AuthServiceEmulator, type EmulatorSeed } from '@apex/nest-auth/testing';
import { readFileSync } from 'node:fs';
import { runReplicasDemo } from './replicas.js';
import { startShop } from './shop/main.js';

// The seed that `npx apex-auth emulator --seed examples/emulator-seed.json` starts with,
// found from examples/ and from .demo-build/ alike.
const seed = JSON.parse(
  readFileSync(new URL('../examples/emulator-seed.json', import.meta.url), 'utf8'),
) as EmulatorSeed & { users: { username: string; password: string }[] };
const USERS = Object.fromEntries(seed.users.map((user) => [user.username, user.password]));

const serve = process.argv.includes('--serve');
const color = process.stdout.isTTY
  ? (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m`
  : (_: number, text: string) => text;

const emulator = await AuthServiceEmulator.start({ port: serve ? 8000 : 0, seed });
console.log(`auth-service emulator on ${emulator.url}`);

Object.assign(process.env, {
  AUTH_SERVICE_URL: emulator.url,
  SHOP_ADMIN_USERNAME: 'admin',
  SHOP_ADMIN_PASSWORD: USERS.admin,
});
let failures = 0;
const mark = (ok: boolean): string => (ok ? color(32, '✔') : color(31, '✘'));

if (process.argv.includes('--replicas')) {
  const ran = await runReplicasDemo(emulator, process.env as Record<string, string>, {
    step: (title, ok, detail) => {
      if (!ok) failures++;
      console.log(`${mark(ok)} ${title}\n    ${detail}`);
    },
  });
  await emulator.stop();
  process.exit(ran && failures === 0 ? 0 : 1);
}

const shop = await startShop(serve ? 3000 : 0);
console.log(`shop service on ${shop.url}\n`);

async function step(
  title: string,
  expected: number,
  method: string,
  path: string,
  init: { token?: string; form?: Record<string, string>; json?: unknown } = {},
): Promise<unknown> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(`${shop.url}${path}`, { method, headers, body });
  const text = await response.text();
  const ok = response.status === expected;
  if (!ok) failures++;
  const mark = ok ? color(32, '✔') : color(31, `✘ expected ${expected}`);
  const shown = text.replace(/"(access_token|refresh_token)":"[^"]+"/g, '"$1":"…"');
  console.log(
    `${mark} ${title}\n    ${method} ${path}${init.token ? ' (Bearer …)' : ''} → ${response.status} ${shown.slice(0, 160)}`,
  );
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function login(username: string): Promise<string> {
  const body = (await step(`${username} logs in`, 200, 'POST', '/auth/login', {
    form: { username, password: USERS[username] },
  })) as { access_token: string };
  return body.access_token;
}

console.log(
  `${color(32, '✔')} permissions synced at startup: ${emulator
    .permissionsOf('shop')
    .map((p) => `${p.name} (${p.type}, default ${JSON.stringify(p.default)})`)
    .join(', ')}`,
);
if (emulator.permissionsOf('shop').length !== 2) failures++;

const viewer = await login('viewer');
const editor = await login('editor');
const admin = await login('admin');
await step('wrong password', 401, 'POST', '/auth/login', {
  form: { username: 'viewer', password: 'guess' },
});
await step('a public route, no token needed', 200, 'GET', '/products/catalog');
await step('a guarded route without a token', 401, 'GET', '/products');
await step('the viewer on a guarded route', 200, 'GET', '/products', { token: viewer });
await step('the viewer may not add products (editor-only)', 403, 'POST', '/products', {
  token: viewer,
  json: { name: 'cocoa' },
});
await step('the editor may', 201, 'POST', '/products', { token: editor, json: { name: 'cocoa' } });
await step('the viewer may not list the service users (admin-only)', 403, 'GET', '/admin/users', {
  token: viewer,
});
await step("the admin lists the service's users", 200, 'GET', '/admin/users', { token: admin });
await step('who am I', 200, 'GET', '/auth/me', { token: editor });

if (serve) {
  console.log(`
Both are running; try (Ctrl-C to stop):
  TOKEN=$(curl -s -X POST ${shop.url}/auth/login -d 'username=editor&password=${USERS.editor}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')
  curl -i ${shop.url}/products/catalog
  curl -i ${shop.url}/products
  curl -i -H "Authorization: Bearer $TOKEN" ${shop.url}/products
  curl -i -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"cocoa"}' ${shop.url}/products
  curl -i -H "Authorization: Bearer $TOKEN" ${shop.url}/auth/me
Users: ${Object.entries(USERS)
    .map(([u, p]) => `${u}/${p}`)
    .join(', ')}`);
  const stop = async () => {
    await shop.app.close();
    await emulator.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} else {
  // A token the shop has not seen yet, so it has to ask the auth-service.
  const fresh = emulator.issueToken('viewer');
  emulator.fail({ kind: 'status', status: 500 });
  console.log(color(33, '\n! the auth-service now answers 500 to everything'));
  await step('a new token cannot be checked: 503, not 401, never access', 503, 'GET', '/products', {
    token: fresh,
  });
  await step('a token checked before is served from the cache', 200, 'GET', '/products', {
    token: viewer,
  });
  emulator.clearFaults();

  await shop.app.close();
  await emulator.stop();
  console.log(
    failures === 0
      ? color(32, '\nevery step answered as expected')
      : color(31, `\n${failures} step(s) answered unexpectedly`),
  );
  process.exit(failures === 0 ? 0 : 1);
}
