/**
 * What the guard costs per request on the warm path (token seen before), and
 * why keys are imported once: `npm run bench`. Runs the real module against
 * the emulator; only the first request of each token reaches it.
 */
import 'reflect-metadata';
import { createSecretKey } from 'node:crypto';
import {
  Controller,
  Get,
  Module,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import jwt from 'jsonwebtoken';
import { ApexAuthGuard, ApexAuthModule, Permissions, PermissionField } from '@apex/nest-auth';
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, bench, describe } from 'vitest';

class Perms {
  @PermissionField({ label: 'Edit', default: false })
  canEdit!: boolean;
}

@Controller()
class BenchController {
  @Permissions('canEdit')
  @Get()
  handler() {
    return 'ok';
  }
}

const SECRET = 'bench-secret-that-is-long-enough-0123456789';
const emulator = await AuthServiceEmulator.start({
  signing: { algorithm: 'HS256', secret: SECRET },
  seed: {
    users: [{ username: 'editor', password: 'editor-password' }],
    services: [{ name: 'bench', metadata: { editor: { canEdit: true } } }],
  },
});

async function guardOf(local: boolean): Promise<{ app: INestApplication; guard: ApexAuthGuard }> {
  @Module({
    imports: [
      ApexAuthModule.forRoot({
        baseUrl: emulator.url,
        serviceName: 'bench',
        permissions: Perms,
        ...(local ? { jwt: { secret: SECRET } } : {}),
      }),
    ],
    controllers: [BenchController],
  })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.init();
  return { app, guard: app.get(ApexAuthGuard) };
}

function contextFor(token: string): ExecutionContext {
  const request = {
    headers: { authorization: `Bearer ${token}` },
    rawHeaders: ['authorization', `Bearer ${token}`],
  };
  const http = {
    getRequest: () => request,
    getResponse: () => ({ set() {}, setHeader() {} }),
    getNext: () => undefined,
  };
  return {
    getType: () => 'http',
    // Nest hands guards the handler function itself; its metadata is what is read.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    getHandler: () => BenchController.prototype.handler,
    getClass: () => BenchController,
    switchToHttp: () => http,
  } as unknown as ExecutionContext;
}

const token = emulator.issueToken('editor', { ttlSeconds: 3600 });
const tampered = `${token.slice(0, -4)}AAAA`;
const local = await guardOf(true);
const remote = await guardOf(false);
// Warm both caches: the only upstream calls of the run.
await local.guard.canActivate(contextFor(token));
await remote.guard.canActivate(contextFor(token));

describe('guard per request', () => {
  afterAll(async () => {
    await local.app.close();
    await remote.app.close();
    await emulator.stop();
  });
  beforeAll(() => emulator.resetCounters());

  bench('local HS256, warm cache (hash + lookup + @Permissions)', async () => {
    await local.guard.canActivate(contextFor(token));
  });
  bench('remote validation, warm cache (hash + lookup + @Permissions)', async () => {
    await remote.guard.canActivate(contextFor(token));
  });
  bench('local HS256, tampered token rejected locally', async () => {
    await Promise.resolve()
      .then(() => local.guard.canActivate(contextFor(tampered)))
      .catch(() => undefined);
  });
});

describe('HS256 verification: key imported once vs per token', () => {
  const key = createSecretKey(Buffer.from(SECRET));
  bench('jsonwebtoken.verify with a KeyObject', () => {
    jwt.verify(token, key as unknown as string, { algorithms: ['HS256'] });
  });
  bench('jsonwebtoken.verify with a string secret', () => {
    jwt.verify(token, SECRET, { algorithms: ['HS256'] });
  });
});
