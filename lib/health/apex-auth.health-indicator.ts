import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { AuthApi } from '../client/auth-api.js';
import type { CircuitGroup } from '../client/auth-service.http.js';
import type { BreakerState } from '../client/circuit-breaker.js';
import { AuthServiceError } from '../errors/index.js';
import { importOptionalPeer } from '../module/optional-peer.js';

/** What `isHealthy` tells of the auth-service, under its key. */
export interface AuthServiceHealth {
  status: 'up' | 'down';
  /** How long the check's request took to be answered (or to fail), in milliseconds. */
  latencyMs: number;
  /** The shared circuit of each group of calls; `off` with `circuitBreaker: false`. */
  breaker: Readonly<Record<CircuitGroup, BreakerState>> | 'off';
  /** Why it is `down`: the error's own message (operation and status, never a credential). */
  reason?: string;
}

/**
 * A health indicator of `@nestjs/terminus` for the auth-service, in the style of
 * terminus' own (`HttpHealthIndicator.pingCheck`): list it in the providers of the
 * module that holds the health controller (next to `TerminusModule`), and call
 * `isHealthy()` from `HealthCheckService.check`. It needs `@nestjs/terminus`
 * (an optional peer): without it, the app stops at startup saying so.
 *
 * @example
 * ```ts
 * @Controller('health')
 * export class HealthController {
 *   constructor(
 *     private readonly health: HealthCheckService,
 *     private readonly auth: ApexAuthHealthIndicator,
 *   ) {}
 *
 *   @Public()
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.auth.isHealthy()]);
 *   }
 * }
 * ```
 */
@Injectable()
export class ApexAuthHealthIndicator implements OnModuleInit {
  #indicators: Promise<HealthIndicatorService> | undefined;

  constructor(private readonly authApi: AuthApi) {}

  /** Loads `@nestjs/terminus`, so that an app without it stops at startup rather than at its first check. */
  async onModuleInit(): Promise<void> {
    await this.indicators();
  }

  /**
   * Checks the auth-service: one cheap request (`AuthApi.ping`: outside the circuit
   * breakers, bounded by the module's `timeoutMs`) and the state of the breakers.
   * `down` when the request fails or times out, or when a shared circuit is not
   * closed (calls of its group fail fast meanwhile), with the reason.
   *
   * @param key - the key of the result, `auth-service` by default
   * @returns `{ [key]: { status, latencyMs, breaker, reason? } }`, as terminus' indicators answer
   */
  async isHealthy<const Key extends string = 'auth-service'>(
    key: Key = 'auth-service' as Key,
  ): Promise<Record<Key, AuthServiceHealth>> {
    const check = (await this.indicators()).check(key);
    const started = performance.now();
    let latencyMs: number;
    let reason: string | undefined;
    try {
      latencyMs = await this.authApi.ping();
    } catch (error) {
      latencyMs = Math.round(performance.now() - started);
      reason = error instanceof AuthServiceError ? error.message : 'unexpected error';
    }
    const circuits = this.authApi.circuits;
    const notClosed = Object.entries(circuits ?? {}).filter(([, state]) => state !== 'closed');
    reason ??=
      notClosed.length > 0
        ? notClosed.map(([group, state]) => `circuit of ${group} calls ${state}`).join('; ')
        : undefined;
    // A shared store of the module's (Redis), once it has one, belongs here too: its own
    // field, and `down` when it fails.
    const detail = { latencyMs, breaker: circuits ?? 'off', ...(reason && { reason }) };
    return (reason === undefined ? check.up(detail) : check.down(detail)) as Record<
      Key,
      AuthServiceHealth
    >;
  }

  private indicators(): Promise<HealthIndicatorService> {
    this.#indicators ??= importOptionalPeer(
      '@nestjs/terminus',
      () => import('@nestjs/terminus'),
    ).then((terminus) => {
      if (terminus === undefined) {
        throw new Error(
          'ApexAuthHealthIndicator needs @nestjs/terminus: install it (npm install @nestjs/terminus)',
        );
      }
      return new terminus.HealthIndicatorService();
    });
    return this.#indicators;
  }
}
