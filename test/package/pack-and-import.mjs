// Proves what users get: packs the built package, installs the tarball into a
// throwaway app outside the repository (with its required peers, none of the
// optional ones), loads both entry points from real Node processes, as ESM and
// through require(esm) from CommonJS, and serves a guarded route.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  checks,
  manifest,
  PROFILE_CONTROLLER,
  npmInstall,
  packInto,
  root,
  throwawayFolder,
} from './package-fixtures.mjs';

const { check, finish } = checks();

/**
 * An ESM app of the installed package, in plain JavaScript (the decorators are called):
 * prints what it found as one JSON line, whichever optional peers are installed.
 */
const OPTIONAL_PEERS_APP = `import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApexAuthHealthIndicator, ApexAuthModule, ApexAuthSwagger } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';

const has = (name) => import(name).then(() => true, () => false);
const result = { swagger: await has('@nestjs/swagger'), terminus: await has('@nestjs/terminus') };
const emulator = await AuthServiceEmulator.start({
  seed: { users: [{ username: 'ann', password: 'ann-password' }], services: [{ name: 'shop' }] },
});
class Products {
  list() {
    return [];
  }
}
Controller('products')(Products);
Get()(Products.prototype, 'list', Object.getOwnPropertyDescriptor(Products.prototype, 'list'));
const auth = ApexAuthModule.forRoot({ baseUrl: emulator.url, serviceName: 'shop' });
const appWith = (providers) => {
  class AppModule {}
  Module({ imports: [auth], controllers: [Products], providers })(AppModule);
  return NestFactory.create(AppModule, { logger: false, abortOnError: false });
};

const app = await appWith(result.terminus ? [ApexAuthHealthIndicator] : []);
await app.listen(0, '127.0.0.1');
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
result.guarded = (await fetch(url + '/products')).status;
const form = new URLSearchParams({ username: 'ann', password: 'ann-password' });
result.login = (await fetch(url + '/auth/login', { method: 'POST', body: form })).status;
if (result.swagger) {
  const { DocumentBuilder, SwaggerModule } = await import('@nestjs/swagger');
  const document = ApexAuthSwagger.setup(
    SwaggerModule.createDocument(app, new DocumentBuilder().build()),
  );
  const login = document.paths['/auth/login'].post;
  result.loginBody = login.requestBody.content['application/json'].schema.$ref;
  result.loginDtoFields = Object.keys(document.components.schemas.LoginDto.properties).sort().join();
  result.tokenUrl = document.components.securitySchemes.oauth2.flows.password.tokenUrl;
  result.guardedSecurity = document.paths['/products'].get.security.flatMap(Object.keys).join();
}
if (result.terminus) {
  result.health = (await app.get(ApexAuthHealthIndicator).isHealthy())['auth-service'].status;
} else {
  result.healthStartup = await appWith([ApexAuthHealthIndicator])
    .then((other) => other.init().then(() => other.close(), (error) => error.message))
    .catch((error) => error.message);
}
await app.close();
await emulator.stop();
console.log(JSON.stringify(result));
`;

// 1. Every relative specifier in dist/ carries its .js extension (NodeNext would
//    not complain about a missing one in a .d.ts, but Node fails at run time).
const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
const specifier = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]*)['"]/g;
const bad = [];
for (const file of files(join(root, 'dist')).filter((f) => /\.(js|d\.ts)$/.test(f))) {
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(specifier)) {
    if (!spec.endsWith('.js')) bad.push(`${relative(root, file)}: ${spec}`);
  }
}
check(
  bad.length === 0,
  `relative imports in dist/ end in .js${bad.length ? `\n  ${bad.join('\n  ')}` : ''}`,
);

// 2. Pack, and install the tarball with the peers into an app outside the repo: the
//    required ones only, as npm itself installs peers (optional ones are the app's choice).
const app = throwawayFolder('nest-auth-consumer');
try {
  const { tarball, files: packedFiles } = packInto(app);
  check(
    packedFiles.every((f) => f === 'package.json' || f === 'README.md' || f.startsWith('dist/')),
    'the tarball holds only package.json, README.md and dist/',
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  // The required peers only, and an HTTP platform: none of the optional peers (GraphQL,
  // WebSockets, microservices), so that the module is proven to load and serve routes without them.
  const optional = Object.keys(manifest.peerDependenciesMeta ?? {}).filter(
    (name) => manifest.peerDependenciesMeta[name].optional === true,
  );
  const pinned = (name) => `${name}@${manifest.devDependencies[name]}`;
  const peers = [
    ...Object.keys(manifest.peerDependencies).filter((name) => !optional.includes(name)),
    '@nestjs/platform-express',
  ].map(pinned);
  npmInstall(app, [tarball, ...peers]);
  const present = optional.filter((name) => existsSync(join(app, 'node_modules', name)));
  check(
    optional.length > 0 && present.length === 0,
    `none of the optional peers is installed (${present.length === 0 ? optional.join(', ') : `found ${present.join(', ')}`})`,
  );

  const expectRoot = [
    'ApexAuthModule',
    'AuthApi',
    'ApexAuthGuard',
    'PermissionField',
    'AuthServiceUnavailableError',
  ];
  const expectTesting = ['AuthServiceEmulator'];
  const probe = (mode) => `
    const root = ${mode === 'esm' ? "await import('@apex/nest-auth')" : "require('@apex/nest-auth')"};
    const testing = ${mode === 'esm' ? "await import('@apex/nest-auth/testing')" : "require('@apex/nest-auth/testing')"};
    const missing = [
      ...${JSON.stringify(expectRoot)}.filter((name) => typeof root[name] !== 'function'),
      ...${JSON.stringify(expectTesting)}.filter((name) => typeof testing[name] !== 'function'),
    ];
    if (missing.length) throw new Error('missing exports: ' + missing.join(', '));
    const emulator = await testing.AuthServiceEmulator.start();
    const res = await fetch(emulator.url + '/auth/user');
    await emulator.stop();
    if (res.status !== 401) throw new Error('emulator answered ' + res.status);
    console.log('loaded');
  `;
  const esm = execFileSync(process.execPath, ['--input-type=module', '--eval', probe('esm')], {
    cwd: app,
    encoding: 'utf8',
  });
  check(esm.trim() === 'loaded', 'ESM import of "." and "./testing" from an installed tarball');
  const cjs = execFileSync(
    process.execPath,
    [
      '--input-type=commonjs',
      '--eval',
      `(async () => { ${probe('cjs')} })().catch((e) => { console.error(e); process.exit(1); });`,
    ],
    { cwd: app, encoding: 'utf8' },
  );
  check(
    cjs.trim() === 'loaded',
    'CommonJS require() of "." and "./testing" from an installed tarball',
  );

  // 3. Without the optional peers: an app boots the module and serves a guarded route
  //    against the emulator, and each transport's subpath entry is where its package is needed.
  writeFileSync(
    join(app, 'routes.mjs'),
    `import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApexAuthModule, CurrentUser } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';

${PROFILE_CONTROLLER}
const emulator = await AuthServiceEmulator.start({
  seed: { users: [{ username: 'viewer', password: 'pack-test-password' }], services: [{ name: 'shop' }] },
});
class AppModule {}
Module({
  imports: [ApexAuthModule.forRoot({ baseUrl: emulator.url, serviceName: 'shop' })],
  controllers: [ProfileController],
})(AppModule);
const nest = await NestFactory.create(AppModule, { logger: ['error'] });
await nest.listen(0, '127.0.0.1');
const url = await nest.getUrl();
const anonymous = await fetch(url + '/profile');
const signedIn = await fetch(url + '/profile', {
  headers: { authorization: 'Bearer ' + emulator.issueToken('viewer') },
});
const body = await signedIn.json();
await nest.close();
await emulator.stop();
const missing = {};
for (const entry of ['graphql', 'websockets', 'microservices']) {
  try {
    await import('@apex/nest-auth/' + entry);
    missing[entry] = 'loaded';
  } catch (error) {
    missing[entry] = error.code === 'ERR_MODULE_NOT_FOUND' ? /'([^']+)'/.exec(error.message)?.[1] : error.message;
  }
}
console.log(JSON.stringify({ anonymous: anonymous.status, signedIn: signedIn.status, body, missing }));
`,
  );
  const routes = JSON.parse(
    execFileSync(process.execPath, ['routes.mjs'], { cwd: app, encoding: 'utf8' }),
  );
  check(
    routes.anonymous === 401 && routes.signedIn === 200 && routes.body.username === 'viewer',
    `without the optional peers, a guarded route: 401 without a token, 200 with one (${JSON.stringify(routes)})`,
  );
  check(
    routes.missing.graphql === 'graphql' &&
      routes.missing.websockets === '@nestjs/websockets' &&
      routes.missing.microservices === '@nestjs/microservices',
    `the subpath entries need their transport's package (${JSON.stringify(routes.missing)})`,
  );

  // 4. The package's bin: `npx apex-auth --help`, then a plan against the emulator with a
  //    compiled schema module that imports the installed package, as a pipeline runs it.
  const help = execFileSync('npx', ['--no-install', 'apex-auth', '--help'], {
    cwd: app,
    encoding: 'utf8',
  });
  check(
    help.startsWith('Usage: apex-auth permissions plan|sync'),
    '`npx apex-auth --help` exits 0',
  );
  writeFileSync(
    join(app, 'schema.mjs'),
    `import { PermissionField } from '@apex/nest-auth';
export class ShopPermissions {}
PermissionField({ label: 'Can view', default: true, type: 'boolean' })(ShopPermissions.prototype, 'canView');
`,
  );
  writeFileSync(
    join(app, 'plan.mjs'),
    `import { execFile } from 'node:child_process';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
const emulator = await AuthServiceEmulator.start({
  seed: {
    users: [{ username: 'shop-admin', password: 'pack-test-password' }],
    services: [{ name: 'shop', admins: ['shop-admin'] }],
  },
});
const env = {
  ...process.env,
  APEX_AUTH_URL: emulator.url,
  APEX_AUTH_SERVICE: 'shop',
  APEX_AUTH_ADMIN_USERNAME: 'shop-admin',
  APEX_AUTH_ADMIN_PASSWORD: 'pack-test-password',
};
const args = ['--no-install', 'apex-auth', 'permissions', 'plan', '--schema', 'schema.mjs#ShopPermissions'];
const code = await new Promise((resolve) =>
  execFile('npx', args, { env }, (error, stdout) => {
    process.stdout.write(stdout);
    resolve(error ? error.code : 0);
  }),
);
await emulator.stop();
console.log('exit ' + code);
`,
  );
  const plan = execFileSync(process.execPath, ['plan.mjs'], { cwd: app, encoding: 'utf8' });
  check(
    plan.includes('create canView') && plan.trim().endsWith('exit 2'),
    '`npx apex-auth permissions plan` against the emulator lists the change and exits 2',
  );

  // 4. The optional peers: without them the module loads and serves, and the health
  //    indicator says what it needs; with them, the routes are documented and it works.
  writeFileSync(join(app, 'optional-peers.mjs'), OPTIONAL_PEERS_APP);
  const runApp = () =>
    JSON.parse(
      execFileSync(process.execPath, ['optional-peers.mjs'], { cwd: app, encoding: 'utf8' }),
    );
  const without = runApp();
  check(
    without.swagger === false && without.terminus === false,
    `the app has neither ${optional.join(' nor ')}`,
  );
  check(
    without.guarded === 401 && without.login === 200,
    `without them, the module loads and serves: a guarded route 401, a login 200 (${JSON.stringify(without)})`,
  );
  check(
    /ApexAuthHealthIndicator needs @nestjs\/terminus/.test(without.healthStartup),
    `without @nestjs/terminus, an app listing ApexAuthHealthIndicator stops at startup saying so (${without.healthStartup})`,
  );
  const documenting = ['@nestjs/swagger', '@nestjs/terminus'].map(pinned);
  npmInstall(app, documenting);
  const withPeers = runApp();
  check(withPeers.swagger && withPeers.terminus, `with ${documenting.join(', ')} installed`);
  check(
    withPeers.loginBody === '#/components/schemas/LoginDto' &&
      withPeers.loginDtoFields === 'grant_type,password,username' &&
      withPeers.tokenUrl === '/auth/login' &&
      withPeers.guardedSecurity === 'bearer,oauth2',
    `the login routes come documented, and ApexAuthSwagger.setup adds the security (${JSON.stringify(withPeers)})`,
  );
  check(
    withPeers.health === 'up',
    `ApexAuthHealthIndicator reports the auth-service up (${withPeers.health})`,
  );
} catch (error) {
  check(false, `pack, install and load: ${error.message}`);
} finally {
  rmSync(app, { recursive: true, force: true });
}

finish();
