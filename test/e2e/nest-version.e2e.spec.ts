import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The end-to-end suite runs twice: on the repository's own install (Nest 12), and with
// vitest.nest11.config.ts on test/nest11's (Nest 11). This says which one actually ran.
const install =
  process.env.APEX_AUTH_NEST_INSTALL ?? fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(install, 'package.json'), 'utf8'));
const wanted: string = { ...manifest.devDependencies, ...manifest.dependencies }['@nestjs/core'];
const fromInstall = createRequire(join(install, 'package.json'));

describe(`the Nest under test (${install})`, () => {
  it(`is @nestjs/core ${wanted}, the very copy Node loaded from that install`, () => {
    // The same object, not merely an equal one: the library and the tests share it.
    expect(fromInstall('@nestjs/core').NestFactory).toBe(NestFactory);
    const core = join(dirname(fromInstall.resolve('@nestjs/core')), 'package.json');
    expect(JSON.parse(readFileSync(core, 'utf8')).version).toBe(wanted);
  });

  it('runs on the platforms of that install, Express (loaded by Nest itself) and Fastify', async () => {
    @Module({})
    class EmptyModule {}
    expect(fromInstall('@nestjs/platform-fastify').FastifyAdapter).toBe(FastifyAdapter);
    const app = await NestFactory.create(EmptyModule, { logger: false });
    try {
      expect(app.getHttpAdapter()).toBeInstanceOf(
        fromInstall('@nestjs/platform-express').ExpressAdapter,
      );
    } finally {
      await app.close();
    }
  });
});
