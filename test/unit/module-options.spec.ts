import { ApexAuthOptionsError, PermissionField, type ApexAuthModuleOptions } from '@apex/nest-auth';
import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { apexAuthSettings } from '../../lib/module/apex-auth.settings.js';

class Perms {
  @PermissionField({ label: 'Edit', default: false })
  canEdit!: boolean;
}

const base: ApexAuthModuleOptions = { baseUrl: 'http://auth:8000', serviceName: 'shop' };
const context = {
  logger: new Logger('test'),
  jwksFetcher: () => () => Promise.reject(new Error('not in this test')),
};
const resolve = (options: Partial<ApexAuthModuleOptions>) =>
  apexAuthSettings({ ...base, ...options }, context);
const refusal = (options: Partial<ApexAuthModuleOptions>): string => {
  try {
    resolve(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ApexAuthOptionsError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('apexAuthSettings', () => {
  it.each(['sh"op', 'sh\\op', 'shop\r\nSet-Cookie: x=1', 'sh\u0000op'])(
    'refuses the service name %j, which the realm of WWW-Authenticate could not quote',
    (serviceName) => {
      expect(refusal({ serviceName })).toBe(
        'serviceName: must hold no quote, backslash or control character',
      );
    },
  );

  it.each(['', 42])('refuses the service name %j', (serviceName) => {
    expect(refusal({ serviceName } as unknown as Partial<ApexAuthModuleOptions>)).toBe(
      'serviceName: must be a non-empty string',
    );
  });

  it('applies the defaults', () => {
    const resolved = resolve({});
    expect(resolved.sync).toBe(false);
    expect(resolved.cache).toEqual({
      ttlMs: 60_000,
      maxEntries: 10_000,
      negativeTtlMs: 5_000,
      negativeMaxEntries: 1_000,
      staleIfErrorMs: 300_000,
      maxBytes: 33_554_432,
      knownUsers: true,
    });
    expect(resolved.lookupLimit).toEqual({ maxRefusedTokens: 60, windowMs: 60_000 });
    expect(resolved.ipv6PrefixLength).toBe(64);
    expect(resolved.claims).toEqual({
      audiences: ['shop'],
      audienceRequired: false,
      clockToleranceSeconds: 0,
    });
    expect(resolved.api.circuitBreaker).toEqual({
      failureRate: 0.5,
      windowMs: 10_000,
      minimumCalls: 10,
      clientFailures: 3,
      halfOpenAfterMs: 250,
      maxHalfOpenAfterMs: 5_000,
    });
    expect(resolved.login.minFailureMs).toBe(250);
    expect(resolved.login.maxFailureMs).toBe(1_000);
    expect(resolved.login.limits).toMatchObject({
      perUsername: { maxFailures: 5, windowMs: 900_000, blockMs: 900_000 },
      perIp: { maxFailures: 20, windowMs: 900_000, blockMs: 900_000 },
    });
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('turns the sync on when admin and permissions are given, and never modifies the caller object', () => {
    const options = { ...base, permissions: Perms, admin: { username: 'a', password: 'b' } };
    const copy = structuredClone({ ...options, permissions: undefined });
    expect(apexAuthSettings(options, context).sync).toEqual({
      onError: 'fail',
      retryForMs: 30_000,
      onChanged: 'keep',
      deleteRemoved: true,
      dryRun: false,
    });
    expect({ ...options, permissions: undefined }).toEqual(copy);
    expect(
      resolve({
        permissions: Perms,
        admin: { token: () => 't' },
        syncPermissions: {
          onError: 'warn',
          retryForMs: 0,
          onChanged: 'recreate',
          deleteRemoved: false,
          dryRun: true,
        },
      }).sync,
    ).toEqual({
      onError: 'warn',
      retryForMs: 0,
      onChanged: 'recreate',
      deleteRemoved: false,
      dryRun: true,
    });
  });

  it('keeps partial login limits on their defaults and turns them off on request', () => {
    const resolved = resolve({
      login: { limits: { perUsername: { maxFailures: 3 } as never, perIp: false } },
    });
    expect(resolved.login.limits).toMatchObject({
      perUsername: { maxFailures: 3, windowMs: 900_000 },
      perIp: false,
    });
    expect(resolve({ login: { limits: false, minFailureMs: 0 } }).login).toEqual({
      limits: false,
      minFailureMs: 0,
      maxFailureMs: 1_000,
    });
    expect(resolve({ login: { minFailureMs: 3_000 } }).login.maxFailureMs).toBe(3_000);
  });

  it('refuses bad values, naming the option', () => {
    expect(refusal({ cache: { ttlMs: 0 } })).toBe(
      'cache.ttlMs: must be a number of milliseconds above 0',
    );
    expect(refusal({ cache: { maxEntries: 1.5 } })).toBe(
      'cache.maxEntries: must be a whole number ≥ 1',
    );
    expect(refusal({ login: { minFailureMs: 60_000 } })).toBe(
      'login.minFailureMs: must be a number of milliseconds from 0 to 5000',
    );
    expect(
      refusal({ login: { limits: { perIp: { maxFailures: 0, windowMs: 1, blockMs: 1 } } } }),
    ).toBe('login.limits.perIp.maxFailures: must be a whole number ≥ 1');
    expect(refusal({ login: { limits: { storage: {} as never } } })).toBe(
      'login.limits.storage: must be a @nestjs/throttler ThrottlerStorage',
    );
    expect(refusal({ syncPermissions: true })).toBe(
      'syncPermissions: is on, but there is no `permissions` schema to sync',
    );
    expect(refusal({ permissions: Perms, syncPermissions: true })).toMatch(
      /^syncPermissions: is on, but `admin` is not set/,
    );
    expect(
      refusal({
        permissions: Perms,
        admin: { token: () => 't' },
        syncPermissions: { retryForMs: -1 },
      }),
    ).toBe('syncPermissions.retryForMs: must be a number of milliseconds ≥ 0');
    const synced = { permissions: Perms, admin: { token: () => 't' } };
    expect(refusal({ ...synced, syncPermissions: { onChanged: 'replace' as never } })).toBe(
      "syncPermissions.onChanged: must be 'keep', 'recreate' or 'fail'",
    );
    expect(refusal({ ...synced, syncPermissions: { deleteRemoved: 'no' as never } })).toBe(
      'syncPermissions.deleteRemoved: must be true or false',
    );
    expect(refusal({ ...synced, syncPermissions: { dryRun: 1 as never } })).toBe(
      'syncPermissions.dryRun: must be true or false',
    );
    expect(refusal({ ...synced, syncPermissions: [] as never })).toBe(
      'syncPermissions: must be a boolean or { onError, retryForMs, onChanged, deleteRemoved, dryRun }',
    );
    expect(refusal({ ...synced, permissions: [] })).toMatch(
      /^permissions: is empty: syncing it would delete every permission of the service/,
    );
    // Without the sync an empty schema harms nothing.
    expect(resolve({ ...synced, permissions: [], syncPermissions: false }).sync).toBe(false);
    expect(refusal({ jwt: { secret: 's'.repeat(32), clockToleranceSeconds: 301 } })).toBe(
      'jwt.clockToleranceSeconds: must be a number of seconds from 0 to 300',
    );
    expect(refusal({ jwt: {} })).toBe('jwt: needs one key source: secret, publicKey or jwksUri');
    expect(refusal({ jwt: { jwksUri: 'file:///etc/passwd' } })).toBe(
      'jwt.jwksUri: must be an absolute http(s) URL',
    );
    expect(refusal({ issuer: [] })).toBe('issuer: must be a non-empty string or array of them');
    expect(refusal({ audience: ['shop', ''] })).toBe(
      'audience: must be a non-empty string or array of them',
    );
    expect(refusal({ login: { minFailureMs: 500, maxFailureMs: 400 } })).toBe(
      'login.maxFailureMs: must be at least login.minFailureMs',
    );
    expect(refusal({ lookupLimit: { maxRefusedTokens: 0 } })).toBe(
      'lookupLimit.maxRefusedTokens: must be a whole number ≥ 1',
    );
    expect(refusal({ ipv6PrefixLength: 129 })).toBe(
      'ipv6PrefixLength: must be a whole number from 1 to 128',
    );
    expect(refusal({ cache: { staleIfErrorMs: -1 } })).toBe(
      'cache.staleIfErrorMs: must be a number of milliseconds ≥ 0',
    );
    expect(refusal({ circuitBreaker: { failureRate: 1 } })).toBe(
      'circuitBreaker.failureRate: must be a number above 0 and below 1',
    );
  });

  it('checks permission definitions given as data like every other option, in the same error', () => {
    const definitions = [
      { name: 'canEdit', type: 'boolean', default: false, lable: 'Can edit' },
      { name: 'region', type: 'str', default: 'eu' },
      { name: '', type: 'boolean' },
    ] as never;
    let error: unknown;
    try {
      resolve({ permissions: definitions, timeoutMS: 1 } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApexAuthOptionsError);
    expect((error as ApexAuthOptionsError).problems).toEqual([
      { option: 'timeoutMS', problem: 'unknown option (did you mean timeoutMs?)' },
      { option: 'permissions[0].lable', problem: 'unknown option (did you mean label?)' },
      { option: 'permissions[1].type', problem: "must be 'string', 'integer' or 'boolean'" },
      { option: 'permissions[2].name', problem: 'must be a non-empty string' },
      { option: 'permissions[2].default', problem: 'is required' },
    ]);
    // What needs several fields at once is checked once those hold.
    expect(
      refusal({
        permissions: [{ name: 'region', type: 'string', default: 'mars', values: ['eu'] }],
      }),
    ).toBe('permissions[0].default: "mars" is not one of its values ["eu"]');
    expect(refusal({ permissions: ['canEdit'] as never })).toBe(
      'permissions[0]: must be an object',
    );
    expect(refusal({ permissions: 'Perms' as never })).toBe(
      'permissions: must be a permissions class or an array of permissions',
    );
    // A class and good data still pass, the data as a plain schema.
    expect(resolve({ permissions: Perms }).schema?.has('canEdit')).toBe(true);
    const data = resolve({ permissions: [{ name: 'canEdit', type: 'boolean', default: false }] });
    expect(data.schema?.definitions).toEqual([
      {
        name: 'canEdit',
        label: 'canEdit',
        description: '',
        type: 'boolean',
        values: [],
        default: false,
      },
    ]);
  });

  it('refuses jwt.audience and jwt.issuer, pointing to the top-level options', () => {
    for (const moved of ['audience', 'issuer']) {
      expect(refusal({ jwt: { secret: 's'.repeat(32), [moved]: 'x' } })).toBe(
        `jwt.${moved}: has moved: use the top-level \`${moved}\` option, which applies in both verification modes`,
      );
    }
  });

  it('takes the audience and issuer as lists; a configured audience is required in tokens', () => {
    expect(resolve({ audience: 'shop-api', issuer: 'https://auth' }).claims).toEqual({
      audiences: ['shop-api'],
      audienceRequired: true,
      issuers: ['https://auth'],
      clockToleranceSeconds: 0,
    });
    expect(
      resolve({ audience: ['a', 'b'], jwt: { secret: 's'.repeat(32), clockToleranceSeconds: 30 } })
        .claims,
    ).toMatchObject({ audiences: ['a', 'b'], clockToleranceSeconds: 30 });
  });
});
