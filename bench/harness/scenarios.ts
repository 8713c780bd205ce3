import { BENCH_USER, type BenchAdapter, type BenchMode } from '../app/bench-config.js';
import type { LoadRequest } from './load.js';
import type { TokenMint } from './token-mint.js';

/**
 * What a scenario sends: the public route without a token; the guarded route
 * with tokens validated before (one per connection), with a token never
 * seen on every request, or with a token that only the other replica has
 * seen (validated there just before the run); or logins.
 */
export type Traffic = 'public' | 'cached-tokens' | 'new-tokens' | 'peer-tokens' | 'login';

/** One row of the table. */
export interface Scenario {
  id: string;
  label: string;
  mode: BenchMode;
  traffic: Traffic;
  /** Measured before the 20 000 distinct tokens go through (the cache nearly empty). */
  beforeFill?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { id: 'public', label: '`@Public()` route (the baseline)', mode: 'local', traffic: 'public' },
  {
    id: 'cached-empty',
    label: 'cached token, cache nearly empty (local)',
    mode: 'local',
    traffic: 'cached-tokens',
    beforeFill: true,
  },
  {
    id: 'cached-local',
    label: 'cached token, after 20 000 distinct tokens, local',
    mode: 'local',
    traffic: 'cached-tokens',
  },
  {
    id: 'cached-remote',
    label: 'cached token, after 20 000 distinct tokens, remote',
    mode: 'remote',
    traffic: 'cached-tokens',
  },
  {
    id: 'new-local',
    label: 'a new token of a known user on every request, local HS256',
    mode: 'local',
    traffic: 'new-tokens',
  },
  {
    id: 'new-remote',
    label: 'a new token of a known user on every request, remote',
    mode: 'remote',
    traffic: 'new-tokens',
  },
  {
    id: 'new-local-full',
    label: 'the same, local, `cache.knownUsers: false`',
    mode: 'local-full',
    traffic: 'new-tokens',
  },
  {
    id: 'new-remote-full',
    label: 'the same, remote, `cache.knownUsers: false`',
    mode: 'remote-full',
    traffic: 'new-tokens',
  },
  {
    id: 'replicas-warm',
    label: 'two replicas on one Redis: cached token (remote)',
    mode: 'remote-redis',
    traffic: 'cached-tokens',
  },
  {
    id: 'replicas-cold',
    label:
      "two replicas on one Redis: each token's first use here, validated on the other (remote)",
    mode: 'remote-redis',
    traffic: 'peer-tokens',
  },
  {
    id: 'seed',
    label: "the seed's way: two auth-service calls per request, no cache",
    mode: 'seed',
    traffic: 'cached-tokens',
  },
  {
    id: 'passport',
    label: 'plain `@nestjs/passport` + `passport-jwt`, string secret',
    mode: 'passport',
    traffic: 'cached-tokens',
  },
  { id: 'login', label: '`POST /auth/login`', mode: 'local', traffic: 'login' },
];

/** The minimum ratios of the issue, per scenario and adapter (`seed×` ones: to the seed's req/s). */
export const TARGETS: Readonly<
  Record<string, { of: 'public' | 'seed'; min: Record<BenchAdapter, number> }>
> = {
  'cached-empty': { of: 'public', min: { express: 0.85, fastify: 0.85 } },
  'cached-local': { of: 'public', min: { express: 0.85, fastify: 0.85 } },
  'cached-remote': { of: 'public', min: { express: 0.85, fastify: 0.85 } },
  'new-local': { of: 'public', min: { express: 0.6, fastify: 0.4 } },
  'new-remote': { of: 'seed', min: { express: 1.5, fastify: 1.5 } },
};

export const guarded = (token: string): LoadRequest => ({
  method: 'GET',
  path: '/guarded',
  headers: { authorization: `Bearer ${token}` },
});

export const PUBLIC_REQUEST: LoadRequest = { method: 'GET', path: '/public' };

export const LOGIN_REQUEST: LoadRequest = {
  method: 'POST',
  path: '/auth/login',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(BENCH_USER),
};

/** `connections` lists of `perConnection` tokens never used before. */
export function newTokenRequests(
  mint: TokenMint,
  connections: number,
  perConnection: number,
): LoadRequest[][] {
  return Array.from({ length: connections }, () => mint.many(perConnection).map(guarded));
}
