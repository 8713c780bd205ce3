// A CommonJS Nest 11 app consumes the package: the tarball installs next to Nest 11
// and its companions (the versions test/nest11 pins, the optional @nestjs/swagger and
// @nestjs/terminus included) without --legacy-peer-deps, `npm ls` is clean, and the
// app, plain CommonJS, boots ApexAuthModule.forRoot() against the emulator that the
// installed package's own bin runs, documents its routes and checks its health.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
const nest11 = JSON.parse(readFileSync(join(root, 'test', 'nest11', 'package.json'), 'utf8'));
const SEED = join(root, 'examples', 'emulator-seed.json');

// The app: no decorator syntax in plain JavaScript, so the decorators are called.
const MAIN = `'use strict';
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { DocumentBuilder, SwaggerModule } = require('@nestjs/swagger');
const {
  ApexAuthHealthIndicator,
  ApexAuthModule,
  ApexAuthSwagger,
  CurrentUser,
} = require('@apex/nest-auth');

${PROFILE_CONTROLLER}
class AppModule {}
Module({
  imports: [ApexAuthModule.forRoot({ baseUrl: process.env.AUTH_SERVICE_URL, serviceName: 'shop' })],
  controllers: [ProfileController],
  providers: [ApexAuthHealthIndicator],
})(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const anonymous = await fetch(url + '/profile');
  const signedIn = await fetch(url + '/profile', { headers: { authorization: 'Bearer ' + process.env.TOKEN } });
  const document = ApexAuthSwagger.setup(SwaggerModule.createDocument(app, new DocumentBuilder().build()));
  console.log(JSON.stringify({
    nest: require('@nestjs/core/package.json').version,
    swagger: require('@nestjs/swagger/package.json').version,
    anonymous: anonymous.status,
    signedIn: signedIn.status,
    body: await signedIn.json(),
    loginBody: document.paths['/auth/login'].post.requestBody.content['application/json'].schema.$ref,
    profileSecurity: document.paths['/profile'].get.security.flatMap(Object.keys).join(),
    health: (await app.get(ApexAuthHealthIndicator).isHealthy())['auth-service'].status,
  }));
  await app.close();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

const app = throwawayFolder('nest-auth-nest11-app');
let emulator;
try {
  const { tarball } = packInto(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'nest11-app', private: true, type: 'commonjs' }),
  );
  // Nest 11's packages that are the package's required peers, the two optional ones this app
  // uses (OpenAPI, health), and the HTTP platform; npm adds the other required peers, and leaves
  // out the other optional ones (GraphQL's, WebSockets', microservices').
  const optional = (name) => manifest.peerDependenciesMeta?.[name]?.optional === true;
  const used = ['@nestjs/swagger', '@nestjs/terminus', '@nestjs/platform-express'];
  const nest = Object.entries(nest11.dependencies)
    .filter(
      ([name]) => (name in manifest.peerDependencies && !optional(name)) || used.includes(name),
    )
    .map(([name, version]) => `${name}@${version}`);
  const warnings = npmInstall(app, [tarball, ...nest], { loglevel: 'warn' });
  check(true, `npm install of the tarball with ${nest.join(', ')}, without --legacy-peer-deps`);
  check(
    !warnings.includes('EBADENGINE'),
    `no EBADENGINE warning on Node ${process.versions.node} with Nest 11`,
  );
  const ls = spawnSync('npm', ['ls', '--all'], { cwd: app, encoding: 'utf8' });
  check(
    // Nest's optional peers (microservices, websockets) are listed as UNMET OPTIONAL: that is fine.
    ls.status === 0 && !/\binvalid\b|\bextraneous\b|UNMET (?!OPTIONAL)/.test(ls.stdout + ls.stderr),
    `\`npm ls --all\` is clean${ls.status === 0 ? '' : `:\n${ls.stdout}${ls.stderr}`}`,
  );

  emulator = spawn(
    join(app, 'node_modules', '.bin', 'apex-auth'),
    ['emulator', '--port', '0', '--seed', SEED],
    {
      cwd: app,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = once(emulator, 'exit');
  let printed = '';
  await new Promise((resolve) => {
    emulator.stdout.on('data', (chunk) => {
      printed += chunk;
      if (printed.endsWith('Ctrl-C stops it.\n')) resolve();
    });
    void exited.then(resolve);
  });
  const url = /^auth-service emulator on (\S+) /m.exec(printed)?.[1];
  const token = /^ {2}viewer +(\S+)$/m.exec(printed)?.[1];
  check(
    url !== undefined && token !== undefined,
    '`apex-auth emulator` of the installed package prints its URL and tokens',
  );

  const run = execFileSync(process.execPath, ['-e', MAIN], {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, AUTH_SERVICE_URL: url, TOKEN: token },
  });
  const result = JSON.parse(run);
  check(result.nest.startsWith('11.'), `the app runs on @nestjs/core ${result.nest}`);
  check(
    result.anonymous === 401 && result.signedIn === 200 && result.body.username === 'viewer',
    `a guarded route of the CommonJS app: 401 without a token, 200 with the viewer's (${run.trim()})`,
  );
  check(
    result.swagger.startsWith('11.') &&
      result.loginBody === '#/components/schemas/LoginDto' &&
      result.profileSecurity === 'bearer,oauth2',
    `with @nestjs/swagger ${result.swagger}: the login routes documented, ApexAuthSwagger.setup's security`,
  );
  check(
    result.health === 'up',
    `ApexAuthHealthIndicator with Nest 11's terminus: ${result.health}`,
  );

  emulator.kill('SIGTERM');
  const [code, signal] = await exited;
  check(
    code === 0 && signal === null,
    `SIGTERM stops the emulator with exit code 0 (${code ?? signal})`,
  );
} catch (error) {
  check(false, `pack, install and boot a CommonJS Nest 11 app: ${error.message}`);
} finally {
  if (emulator?.exitCode === null) emulator.kill('SIGKILL');
  rmSync(app, { recursive: true, force: true });
}

finish();
