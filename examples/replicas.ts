/**
 * `npm run demo -- --replicas`: two processes of the example shop on one Redis
 * (`redis-server` from the PATH, on a free port, in memory only) and one
 * emulator. A token validated by one replica is served by the other without a
 * second lookup; a logout on one takes effect on both.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';

export interface DemoSteps {
  step: (title: string, ok: boolean, detail: string) => void;
}

/** Runs the replicas' part of the demo; false when redis-server is not there (said how to get it). */
export async function runReplicasDemo(
  emulator: AuthServiceEmulator,
  env: Record<string, string>,
  { step }: DemoSteps,
): Promise<boolean> {
  if (spawnSync('redis-server', ['--version']).error !== undefined) {
    console.log(
      'redis-server is not on the PATH. Install it and run again:\n' +
        '  Debian/Ubuntu: sudo apt-get install redis-server\n' +
        '  macOS:         brew install redis',
    );
    return false;
  }
  const port = await freePort();
  const redis = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    tmpdir(),
  ]);
  await started(redis, /Ready to accept connections/);
  const redisUrl = `redis://127.0.0.1:${port}`;
  console.log(`redis-server on ${redisUrl}`);
  const serve = fileURLToPath(new URL('./shop/serve.js', import.meta.url));
  const replicas = await Promise.all(
    ['A', 'B'].map(async (name) => {
      const child = spawn(process.execPath, [serve], {
        env: { ...process.env, ...env, PORT: '0', REDIS_URL: redisUrl },
      });
      const line = await started(child, /shop service on (http:\/\/\S+),/);
      return { name, child, url: /shop service on (http:\/\/\S+),/.exec(line)![1] };
    }),
  );
  const [a, b] = replicas;
  console.log(`replica A on ${a.url}, replica B on ${b.url}\n`);
  try {
    const token = emulator.issueToken('editor');
    const get = (url: string) =>
      fetch(`${url}/products`, { headers: { authorization: `Bearer ${token}` } });
    emulator.resetCounters();
    const onA = await get(a.url);
    step(
      'replica A checks a new token at the auth-service',
      onA.status === 200,
      `GET /products on A → ${onA.status}; lookups: ${emulator.requestCount('user')}`,
    );
    const onB = await get(b.url);
    step(
      'replica B serves it without a second lookup',
      onB.status === 200 && emulator.requestCount('user') === 1,
      `GET /products on B → ${onB.status}; lookups: ${emulator.requestCount('user')}`,
    );
    const out = await fetch(`${a.url}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await get(b.url);
    step(
      'a logout on A: B looks the token up again',
      out.status === 204 && again.status === 200 && emulator.requestCount('user') === 2,
      `POST /auth/logout on A → ${out.status}; GET /products on B → ${again.status}; lookups: ${emulator.requestCount('user')}`,
    );
  } finally {
    for (const { child } of replicas) child.kill('SIGTERM');
    redis.kill('SIGTERM');
  }
  return true;
}

/** Resolves with the first output line matching `ready`; rejects if the process exits first. */
function started(child: ChildProcess, ready: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const line = output.split('\n').find((each) => ready.test(each));
      if (line !== undefined) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('exit', (code) =>
      reject(new Error(`${String(child.spawnfile)} exited (${code}): ${output}`)),
    );
  }).then((line) => {
    child.removeAllListeners('exit');
    return line;
  }) as Promise<string>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
