import { randomBytes } from 'node:crypto';

import type { AuthServiceEmulatorOptions, EmulatorSeed, EmulatorSigning } from './options.js';

/** {@link AuthServiceEmulatorOptions} with every default filled in and checked. */
export interface ResolvedEmulatorOptions {
  readonly port: number;
  readonly host: string;
  readonly signing: EmulatorSigning;
  readonly tokenTtlSeconds: number;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly permissionUpdate: boolean;
  readonly refreshTokens: boolean;
  readonly integerPermissionIds: boolean;
  readonly seed: EmulatorSeed;
}

const DEFAULT_TTL_SECONDS = 3600;

/**
 * Fills in the defaults and rejects options that would only fail later, far from
 * their cause (a typo'd algorithm would otherwise surface as every token being refused).
 */
export function resolveOptions(options: AuthServiceEmulatorOptions = {}): ResolvedEmulatorOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer between 0 and 65535, got ${String(port)}`);
  }
  const tokenTtlSeconds = options.tokenTtlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds <= 0) {
    throw new RangeError(
      `tokenTtlSeconds must be a positive integer, got ${String(tokenTtlSeconds)}`,
    );
  }
  return {
    port,
    host: options.host ?? '127.0.0.1',
    signing: resolveSigning(options.signing),
    tokenTtlSeconds,
    issuer: options.issuer,
    audience: options.audience,
    permissionUpdate: options.permissionUpdate ?? false,
    refreshTokens: options.refreshTokens ?? false,
    integerPermissionIds: options.integerPermissionIds ?? false,
    seed: options.seed ?? {},
  };
}

function resolveSigning(signing: EmulatorSigning | undefined): EmulatorSigning {
  if (signing === undefined) {
    return { algorithm: 'HS256', secret: randomBytes(32).toString('base64url') };
  }
  if (signing.algorithm === 'RS256') return { algorithm: 'RS256' };
  if (signing.algorithm === 'HS256') {
    if (typeof signing.secret !== 'string' || signing.secret === '') {
      throw new TypeError('signing.secret must be a non-empty string for HS256');
    }
    return { algorithm: 'HS256', secret: signing.secret };
  }
  throw new TypeError(
    `signing.algorithm must be 'HS256' or 'RS256', got ${JSON.stringify((signing as { algorithm: unknown }).algorithm)}`,
  );
}
