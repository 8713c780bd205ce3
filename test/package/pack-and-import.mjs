// Proves what users get: packs the built package, installs the tarball into a
// throwaway app outside the repository, and loads both entry points from real
// Node processes, as ESM and through require(esm) from CommonJS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

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

// 2. Pack, and install the tarball with the peers into an app outside the repo.
const app = mkdtempSync(join(tmpdir(), 'nest-auth-consumer-'));
try {
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', app], {
    cwd: root,
    encoding: 'utf8',
  });
  const [{ filename, files: packedFiles }] = JSON.parse(packed);
  check(
    packedFiles.every(
      (f) => f.path === 'package.json' || f.path === 'README.md' || f.path.startsWith('dist/'),
    ),
    'the tarball holds only package.json, README.md and dist/',
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const peers = Object.keys(manifest.peerDependencies).map(
    (name) => `${name}@${manifest.devDependencies[name]}`,
  );
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      join(app, filename),
      ...peers,
    ],
    { cwd: app, stdio: 'inherit' },
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
} catch (error) {
  check(false, `pack, install and load: ${error.message}`);
} finally {
  rmSync(app, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`${failures.length} package check(s) failed`);
  process.exit(1);
}
