/**
 * One app of the bench, in a process of its own (pinned to a core by the
 * harness): `node serve.js '<BenchAppConfig as JSON>'`. It tells its parent
 * its port over IPC, answers `rss` with its resident set size, and stops
 * when the parent goes.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { BenchAppConfig, BenchAppMessage } from './bench-config.js';
import { benchModule } from './bench-modules.js';

const config = JSON.parse(process.argv[2] ?? '{}') as BenchAppConfig;
const module = benchModule(config);
const app =
  config.adapter === 'fastify'
    ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error', 'warn'] })
    : await NestFactory.create(module, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const { port } = (app.getHttpServer() as { address(): { port: number } }).address();

const send = (message: BenchAppMessage): void => void process.send?.(message);
send({ type: 'listening', port });
process.on('message', (message: { type?: string }) => {
  if (message.type === 'rss') {
    // Run with --expose-gc by the harness: what is kept, not what V8 has yet to collect.
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    send({ type: 'rss', bytes: rss, heapUsedBytes: heapUsed });
  }
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', micros: user + system });
  }
});
process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
