import { BadRequestException, ForbiddenException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { GraphQLError } from 'graphql';
import { AuthServiceUnavailableError } from '@apex/nest-auth';
import { toGraphQLError } from '@apex/nest-auth/graphql';
import { toRpcException } from '@apex/nest-auth/microservices';
import { toWsException } from '@apex/nest-auth/websockets';
import { describe, expect, it } from 'vitest';
import { bearerTokenFrom, oneBearerOf } from '../../lib/auth/bearer-token.js';
import { refusalOf } from '../../lib/transports/refusal.js';
import { AuthenticationFailure } from '../../lib/verification/authentication-failure.js';
import { TooManyTokenLookupsError } from '../../lib/verification/lookup-budget.js';

const JWS = 'aGVhZGVy.cGF5bG9hZA.c2ln';

describe('refusals, free of any transport', () => {
  it.each([
    [
      new AuthenticationFailure('token expired', 'expired'),
      { status: 401, code: 'UNAUTHENTICATED', message: 'token expired' },
    ],
    [
      new ForbiddenException('missing permission: canEdit'),
      { status: 403, code: 'FORBIDDEN', message: 'missing permission: canEdit' },
    ],
    [
      new TooManyTokenLookupsError(42),
      {
        status: 429,
        code: 'TOO_MANY_REQUESTS',
        message: 'too many invalid tokens from this address; try again later',
        retryAfterSeconds: 42,
      },
    ],
    [
      new AuthServiceUnavailableError('user', 'status', 503, 7),
      {
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        message: 'auth-service unavailable',
        retryAfterSeconds: 7,
      },
    ],
    [
      new BadRequestException('a predicate said so'),
      { status: 400, code: 'BAD_REQUEST', message: 'a predicate said so' },
    ],
  ])('%s', (error, refusal) => {
    expect(refusalOf(error)).toEqual(refusal);
  });

  it('is no refusal for a bug, which each transport answers as it answers bugs', () => {
    const bug = new TypeError('x is undefined');
    expect(refusalOf(bug)).toBeUndefined();
    expect(toGraphQLError(bug)).toBe(bug);
    expect(toWsException(bug)).toBe(bug);
    expect(toRpcException(bug)).toBe(bug);
  });

  it("is each transport's own error, with the code and the reason only", () => {
    const unavailable = new AuthServiceUnavailableError('user', 'status', 503, 7);
    const graphql = toGraphQLError(unavailable) as GraphQLError;
    expect(graphql).toBeInstanceOf(GraphQLError);
    expect([graphql.message, graphql.extensions]).toEqual([
      'auth-service unavailable',
      { code: 'SERVICE_UNAVAILABLE', retryAfter: 7 },
    ]);
    const ws = toWsException(new ForbiddenException('superadmin required')) as WsException;
    expect(ws).toBeInstanceOf(WsException);
    expect(ws.getError()).toEqual({
      status: 'error',
      code: 'FORBIDDEN',
      message: 'superadmin required',
    });
    const rpc = toRpcException(unavailable) as RpcException;
    expect(rpc).toBeInstanceOf(RpcException);
    expect(rpc.getError()).toEqual({
      status: 'error',
      code: 'SERVICE_UNAVAILABLE',
      message: 'auth-service unavailable',
      retryAfter: 7,
    });
  });
});

describe('a token given as a value of its own', () => {
  it.each([
    [undefined, 'missing'],
    [null, 'missing'],
    ['', 'missing'],
    [42, 'malformed'],
    ['Bearer', 'malformed'],
    ['Basic dXNlcjpwYXNz', 'malformed'],
    [`Bearer ${JWS} extra`, 'malformed'],
    ['x'.repeat(9000), 'malformed'],
  ])('%j is %s', (value, problem) => {
    expect(bearerTokenFrom(value)).toEqual({ problem });
  });

  it('is read with or without Bearer, in any case', () => {
    for (const value of [JWS, `Bearer ${JWS}`, `bearer  ${JWS}`]) {
      const result = bearerTokenFrom(value);
      expect('credential' in result && result.credential.token).toBe(JWS);
    }
  });

  it('of several places: one token, the same token twice, or two different tokens (refused)', () => {
    const one = oneBearerOf([{ problem: 'missing' }, bearerTokenFrom(JWS)]);
    expect('credential' in one && one.credential.token).toBe(JWS);
    const same = oneBearerOf([bearerTokenFrom(`Bearer ${JWS}`), bearerTokenFrom(JWS)]);
    expect('credential' in same).toBe(true);
    expect(oneBearerOf([bearerTokenFrom(JWS), bearerTokenFrom(`${JWS}x`)])).toEqual({
      problem: 'malformed',
    });
    expect(oneBearerOf([bearerTokenFrom(JWS), { problem: 'malformed' }])).toEqual({
      problem: 'malformed',
    });
    expect(oneBearerOf([{ problem: 'missing' }, { problem: 'missing' }])).toEqual({
      problem: 'missing',
    });
  });
});
