// What the package tests share: the repository and its manifest, one printed line
// per check, and packing the built package into a throwaway app outside the repo.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `check(ok, what)` prints one line per check; `finish()` exits 1 if any failed. */
export function checks() {
  const failures = [];
  return {
    check(ok, what) {
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
      if (!ok) failures.push(what);
    },
    finish() {
      if (failures.length === 0) return;
      console.error(`${failures.length} package check(s) failed`);
      process.exit(1);
    },
  };
}

/** A new empty folder outside the repository, where no node_modules of the repo is found. */
export function throwawayFolder(name) {
  return mkdtempSync(join(tmpdir(), `${name}-`));
}

/** Packs the built package into `dir`; returns the tarball's path and the packed files. */
export function packInto(dir) {
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
  });
  const [{ filename, files }] = JSON.parse(packed);
  return { tarball: join(dir, filename), files: files.map((file) => file.path) };
}

/**
 * `npm install <specs>` in `dir`, as an app's developer runs it (peer conflicts fail it);
 * throws when it fails, and returns what npm printed on stderr (its warnings).
 */
export function npmInstall(dir, specs, { loglevel = 'error' } = {}) {
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', `--loglevel=${loglevel}`];
  const run = spawnSync('npm', [...args, ...specs], { cwd: dir, encoding: 'utf8' });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  if (run.status !== 0) throw new Error(`npm install exited with ${run.status}`);
  return run.stderr;
}

/**
 * The guarded route of the throwaway apps, `GET /profile` → `{ username }`, in plain
 * JavaScript (no decorator syntax, so the decorators are called); the app brings
 * `Controller`, `Get` and `CurrentUser` into scope, by `require` or `import`.
 */
export const PROFILE_CONTROLLER = `class ProfileController {
  show(username) {
    return { username };
  }
}
Controller('profile')(ProfileController);
CurrentUser('username')(ProfileController.prototype, 'show', 0);
Get()(ProfileController.prototype, 'show', Object.getOwnPropertyDescriptor(ProfileController.prototype, 'show'));
`;
