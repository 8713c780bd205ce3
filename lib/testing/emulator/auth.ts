import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import type { EmulatorContext } from './context.js';
import { BEARER_CHALLENGE, HttpError } from './http.js';
import type { WireUser } from './options.js';
import type { ServiceRecord } from './service.js';

/** Overrides for {@link issueAccessToken}. */
export interface AccessTokenOverrides {
  /** Lifetime in seconds instead of the configured one; negative gives an expired token. */
  readonly ttlSeconds?: number;
  /** Claims added to, or replacing, the standard ones. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** An access token for `user`, exactly as a successful login would issue it. */
export function issueAccessToken(
  { options, tokens, issued }: EmulatorContext,
  user: WireUser,
  overrides: AccessTokenOverrides = {},
): string {
  const iat = Math.floor(Date.now() / 1000);
  const ttl = overrides.ttlSeconds ?? options.tokenTtlSeconds;
  return issued.record(
    tokens.sign({
      sub: user.username,
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
      ...(options.issuer === undefined ? {} : { iss: options.issuer }),
      ...(options.audience === undefined ? {} : { aud: options.audience }),
      ...overrides.claims,
    }),
  );
}

/** The body of a successful token response (endpoints 1, 2 and 11). */
export function tokenResponse(context: EmulatorContext, user: WireUser): Record<string, unknown> {
  const body: Record<string, unknown> = {
    access_token: issueAccessToken(context, user),
    token_type: 'bearer',
  };
  if (context.options.refreshTokens) {
    body.refresh_token = context.issued.record(context.state.issueRefreshToken(user.id));
    body.expires_in = context.options.tokenTtlSeconds;
  }
  return body;
}

/**
 * The owner of the request's Bearer token, or the `401` FastAPI's OAuth2 scheme gives:
 * "Not authenticated" without a Bearer credential, "Could not validate credentials" for
 * a token with another algorithm, a bad signature, no future `exp`, revoked, or whose
 * `sub` names no user (a username, or else an id).
 */
export function authenticate(context: EmulatorContext, headers: IncomingHttpHeaders): WireUser {
  const token = bearerToken(headers.authorization);
  if (token === undefined) {
    throw new HttpError(401, 'Not authenticated', BEARER_CHALLENGE);
  }
  const claims = context.tokens.verify(token);
  const user =
    claims !== undefined &&
    typeof claims.exp === 'number' &&
    claims.exp > Date.now() / 1000 &&
    typeof claims.sub === 'string' &&
    !context.state.isRevoked(token)
      ? context.state.findUser(claims.sub)
      : undefined;
  if (user === undefined) {
    throw new HttpError(401, 'Could not validate credentials', BEARER_CHALLENGE);
  }
  return user;
}

/** Throws `403` unless `user` is an admin of `service` or a superadmin. */
export function requireServiceAdmin(service: ServiceRecord, user: WireUser): void {
  if (!user.is_admin && !service.isAdmin(user.id)) {
    throw new HttpError(403, 'Not enough permissions');
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const value = header?.trim() ?? '';
  const space = value.search(/\s/);
  if (space < 0) return undefined;
  const token = value.slice(space + 1).trim();
  return value.slice(0, space).toLowerCase() === 'bearer' && token !== '' ? token : undefined;
}
