import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../fixtures/capturing-logger.js';
import { PASSWORDS, shopSeed } from '../fixtures/seed.js';
import { ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { shopAuth } from '../fixtures/start-app.js';

/** A login over the Unix socket: the app sees no client address at all. */
function loginOverSocket(socketPath: string, username: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ username, password }).toString();
    const sent = request(
      {
        socketPath,
        path: '/auth/login',
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': username,
        },
      },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 0));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

describe('an app on a Unix socket (express): no client address', () => {
  let emulator: AuthServiceEmulator;
  let app: INestApplication;
  const logger = new CapturingLogger();
  const socketPath = join(mkdtempSync(join(tmpdir(), 'apex-auth-')), 'app.sock');
  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({ seed: shopSeed() });
    @Module({
      imports: [
        shopAuth(emulator.url, {
          syncPermissions: false,
          login: {
            minFailureMs: 0,
            maxFailureMs: 0,
            limits: {
              perUsername: false,
              perIp: { maxFailures: 2, windowMs: 60_000, blockMs: 60_000 },
            },
          },
        }),
        ShopFeatureModule,
      ],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    await app.listen(socketPath);
  });
  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('counts every such request as one address, so the per-address limit still holds, and says so once', async () => {
    expect(await loginOverSocket(socketPath, 'viewer', 'wrong-1')).toBe(401);
    expect(await loginOverSocket(socketPath, 'editor', 'wrong-2')).toBe(401);
    expect(await loginOverSocket(socketPath, 'admin', PASSWORDS.admin)).toBe(429);
    const said = logger.apexAuth('warn').filter((line) => line.includes('has no client address'));
    expect(said).toHaveLength(1);
  });
});
