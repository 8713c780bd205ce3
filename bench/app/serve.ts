/**
 * One app of the bench, in a process of its own (pinned to a core by the
 * harness): `node serve.js '<BenchAppConfig as JSON>'`. It tells its parent
 * its port over IPC, answers `rss` with its resident set size, and stops
 * when the parent goes.
 */
import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
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
/**
 * V8 returns the pages a collection freed to the OS later, from background
 * threads (sweeping, unmapping): read right after `gc()`, RSS still counts
 * them. On this machine, one app's readings moved by up to 90 MB right after
 * `gc()`, and by under 2 MB once they had settled for a second.
 */
const SETTLE_STEPS_MS = [500, 500];

/** RSS and V8 heap in use once a collection's freed pages are returned: what the app keeps. */
async function settledMemory(): Promise<Extract<BenchAppMessage, { type: 'rss' }>> {
  // Run with --expose-gc by the harness: what is kept, not what V8 has yet to collect.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  for (const ms of SETTLE_STEPS_MS) {
    await sleep(ms);
    gc?.();
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { type: 'rss', bytes: rss, heapUsedBytes: heapUsed };
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'rss') void settledMemory().then(send);
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', micros: user + system });
  }
});
process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
