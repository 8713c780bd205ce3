/**
 * What the bench's processes share: the one service, user and secret of the
 * run, and how an app process is told what to be.
 */

/** The HS256 secret the emulator signs with and local mode verifies with. */
export const BENCH_SECRET = 'bench-secret-that-is-long-enough-0123456789';
export const BENCH_SERVICE = 'bench';
/** The user every token of the run belongs to (a known user: seeded, with metadata). */
export const BENCH_USER = { username: 'reader', password: 'reader-password' } as const;

/**
 * What an app process runs:
 * - `local`, `remote`: this module, verifying tokens locally (HS256) or at the auth-service;
 * - `local-full`, `remote-full`: the same with `cache.knownUsers: false` (every new token looked up in full);
 * - `remote-redis`: remote, sharing state with another replica on one Redis (`redis`);
 * - `seed`: a hand-written guard doing what the seed (and apexauthlib) did: two auth-service calls per request, no cache;
 * - `passport`: plain `@nestjs/passport` + `passport-jwt` with a string secret, what most Nest apps do.
 */
export type BenchMode =
  'local' | 'remote' | 'local-full' | 'remote-full' | 'remote-redis' | 'seed' | 'passport';
export type BenchAdapter = 'express' | 'fastify';

/** Handed to an app process as its one argument (JSON). */
export interface BenchAppConfig {
  adapter: BenchAdapter;
  mode: BenchMode;
  authServiceUrl: string;
  /** The Redis of `remote-redis`. */
  redisUrl?: string;
}

/** What an app process sends its parent over IPC. */
export type BenchAppMessage =
  | { type: 'listening'; port: number }
  /** Resident set size and V8's heap in use, after a `gc()`. */
  | { type: 'rss'; bytes: number; heapUsedBytes: number }
  /** The CPU time the process used so far (user and system), in µs. */
  | { type: 'cpu'; micros: number };
