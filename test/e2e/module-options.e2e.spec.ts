import { HttpService } from '@nestjs/axios';
import type { DynamicModule } from '@nestjs/common';
import axios from 'axios';
import {
  ApexAuthModule,
  ApexAuthOptionsError,
  AuthApi,
  type ApexAuthModuleOptions,
} from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import { PLATFORMS, shopOptions, startApp } from '../fixtures/start-app.js';

/** What a startup (or a registration) threw: the error itself, for its `problems`. */
async function failureOf(startup: () => unknown): Promise<ApexAuthOptionsError> {
  const error: unknown = await Promise.resolve()
    .then(startup)
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(error).toBeInstanceOf(ApexAuthOptionsError);
  return error as ApexAuthOptionsError;
}

/** Options with a typo in them: not what the options type allows, as a JavaScript caller writes them. */
type Loose = Record<string, unknown>;

/** Typos of options, and what the startup says of each: every problem, in order. */
const TYPOS: [string, (options: Loose) => Loose, { option: string; problem: string }[]][] = [
  [
    'servicName for serviceName (also missing, so required)',
    ({ serviceName: _dropped, ...options }) => ({ ...options, servicName: 'shop' }),
    [
      { option: 'servicName', problem: 'unknown option (did you mean serviceName?)' },
      { option: 'serviceName', problem: 'must be a non-empty string' },
    ],
  ],
  [
    'cache: { ttl } for cache: { ttlMs }',
    (options) => ({ ...options, cache: { ttl: 1_000 } }),
    [{ option: 'cache.ttl', problem: 'unknown option (did you mean ttlMs?)' }],
  ],
  [
    'timeoutMS for timeoutMs',
    (options) => ({ ...options, timeoutMS: 3_000 }),
    [{ option: 'timeoutMS', problem: 'unknown option (did you mean timeoutMs?)' }],
  ],
  [
    'a typo three levels deep',
    (options) => ({
      ...options,
      login: { limits: { perIp: { maxFailure: 3 } } },
    }),
    [
      {
        option: 'login.limits.perIp.maxFailure',
        problem: 'unknown option (did you mean maxFailures?)',
      },
    ],
  ],
  [
    'an unknown key next to a missing baseUrl',
    ({ baseUrl: _dropped, ...options }) => ({ ...options, flavour: 'vanilla' }),
    [
      { option: 'flavour', problem: 'unknown option' },
      {
        option: 'baseUrl',
        problem: 'must be an absolute http(s) URL, e.g. http://auth-service:8000',
      },
    ],
  ],
];

describe.each(PLATFORMS)('unknown option keys on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  useShopEmulator(platform, {}, (started) => (emulator = started));
  beforeEach(() => emulator.resetCounters());
  /** The shop's options, syncing (so that a startup that got past the options would log in). */
  const options = (): Loose => ({ ...shopOptions(emulator.url) });

  describe.each(TYPOS)('%s', (_what, typo, problems) => {
    it('forRoot: the registration is built; the startup fails, naming each problem', async () => {
      const auth = ApexAuthModule.forRoot(typo(options()) as unknown as ApexAuthModuleOptions);
      const error = await failureOf(() => startApp(platform, auth));
      expect(error.problems).toEqual(problems);
      expect(error.option).toBe(problems[0].option);
      expect(error.message).toBe(problems.map((p) => `${p.option}: ${p.problem}`).join('; '));
      // Refused before anything was asked of the auth-service.
      expect(emulator.requestCount('login')).toBe(0);
    });

    it('forRootAsync: a factory that returns them fails the startup the same way', async () => {
      const error = await failureOf(() =>
        startApp(
          platform,
          ApexAuthModule.forRootAsync({
            useFactory: () => typo(options()) as unknown as ApexAuthModuleOptions,
          }),
        ),
      );
      expect(error.problems).toEqual(problems);
      expect(emulator.requestCount('login')).toBe(0);
    });
  });

  it('forRootAsync: an extra returned by the factory is refused, saying it goes next to useFactory', async () => {
    const error = await failureOf(() =>
      startApp(
        platform,
        ApexAuthModule.forRootAsync({
          useFactory: () =>
            ({ ...options(), globalGuard: false }) as unknown as ApexAuthModuleOptions,
        }),
      ),
    );
    expect(error.problems).toEqual([
      {
        option: 'globalGuard',
        problem:
          'shapes the module, so it goes next to useFactory in forRootAsync(), not in what the factory returns',
      },
    ]);
  });

  it('the same options without the typo start the app', async () => {
    const app = await startApp(platform, ApexAuthModule.forRoot(shopOptions(emulator.url)));
    try {
      expect(emulator.requestCount('login')).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('misspelt extras', () => {
  const options = shopOptions('http://127.0.0.1:9');
  const start = (module: DynamicModule) => startApp('express', module);

  it('forRoot: refused at startup, with the extra it was likely meant to be', async () => {
    const error = await failureOf(() =>
      start(ApexAuthModule.forRoot({ ...options, globalGaurd: false } as ApexAuthModuleOptions)),
    );
    expect(error.problems).toEqual([
      { option: 'globalGaurd', problem: 'unknown option (did you mean globalGuard?)' },
    ]);
    const controller = await failureOf(() =>
      start(ApexAuthModule.forRoot({ ...options, controler: false } as ApexAuthModuleOptions)),
    );
    expect(controller.message).toBe('controler: unknown option (did you mean controller?)');
  });

  it('forRoot: reported with the problems of the options, in one error', async () => {
    const withoutName: Partial<ApexAuthModuleOptions> = { ...options };
    delete withoutName.serviceName;
    const error = await failureOf(() =>
      start(
        ApexAuthModule.forRoot({
          ...withoutName,
          controler: false,
          timeoutMS: 1,
        } as unknown as ApexAuthModuleOptions),
      ),
    );
    expect(error.problems).toEqual([
      { option: 'controler', problem: 'unknown option (did you mean controller?)' },
      { option: 'timeoutMS', problem: 'unknown option (did you mean timeoutMs?)' },
      { option: 'serviceName', problem: 'must be a non-empty string' },
    ]);
  });

  it('forRootAsync: refused at startup, next to useFactory', async () => {
    const error = await failureOf(() =>
      start(
        ApexAuthModule.forRootAsync({
          useFactory: () => options,
          globalGaurd: false,
        } as Parameters<typeof ApexAuthModule.forRootAsync>[0]),
      ),
    );
    expect(error.problems).toEqual([
      { option: 'globalGaurd', problem: 'unknown option (did you mean globalGuard?)' },
    ]);
    const factory = await failureOf(() =>
      ApexAuthModule.forRootAsync({ useFactry: () => options } as Parameters<
        typeof ApexAuthModule.forRootAsync
      >[0]),
    );
    expect(factory.message).toBe('useFactry: unknown option (did you mean useFactory?)');
  });

  it('a bad value of an extra is named like an option', async () => {
    const error = await failureOf(() =>
      start(
        ApexAuthModule.forRoot({ ...options, isGlobal: 'yes' } as unknown as ApexAuthModuleOptions),
      ),
    );
    expect(error.problems).toEqual([{ option: 'isGlobal', problem: 'must be true or false' }]);
  });
});

describe('AuthApi on its own', () => {
  it('refuses the same typos through the same check, at construction', async () => {
    const http = new HttpService(axios.create());
    const construct = (options: Loose) => () => new AuthApi(http, options as never);
    const servicName = await failureOf(
      construct({ baseUrl: 'http://127.0.0.1:9', servicName: 'shop' }),
    );
    expect(servicName.problems).toEqual(TYPOS[0][2]);
    const timeoutMS = await failureOf(
      construct({ baseUrl: 'http://127.0.0.1:9', serviceName: 'shop', timeoutMS: 3_000 }),
    );
    expect(timeoutMS.message).toBe('timeoutMS: unknown option (did you mean timeoutMs?)');
  });
});
