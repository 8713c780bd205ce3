import { inspect } from 'node:util';
import { Controller, Get, Logger, Module, type LoggerService } from '@nestjs/common';
import { AuthApi, AuthToken, ServiceAdmin, TokenVerifier } from '@apex/nest-auth';
import { PermissionSyncService } from '../../lib/sync/permission-sync.service.js';
import { AuthServiceEmulator, type EmulatorFault } from '@apex/nest-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, show, type Answer, type CallOptions } from '../fixtures/http.js';
import { OAUTH_CLIENT, PASSWORDS, shopSeed } from '../fixtures/seed.js';
import { ShopFeatureModule } from '../fixtures/shop.controllers.js';
import { PLATFORMS, shopAuth, startApp, type RunningApp } from '../fixtures/start-app.js';
import { startRecordingProxy, type RecordingProxy } from './fixtures/recording-proxy.js';
import { goodClaims, startTrap, type Trap } from './fixtures/security.js';

const JWT_SECRET = 'leak-sweep-jwt-secret-0123456789-abcdef';

/** A logger that keeps every argument of every call, errors with their stack and own fields. */
class SweepLogger implements LoggerService {
  readonly lines: string[] = [];
  log(...args: unknown[]): void {
    this.push('log', args);
  }
  error(...args: unknown[]): void {
    this.push('error', args);
  }
  warn(...args: unknown[]): void {
    this.push('warn', args);
  }
  debug(...args: unknown[]): void {
    this.push('debug', args);
  }
  verbose(...args: unknown[]): void {
    this.push('verbose', args);
  }
  fatal(...args: unknown[]): void {
    this.push('fatal', args);
  }
  private push(level: string, args: unknown[]): void {
    const text = args.map((arg) =>
      typeof arg === 'string' ? arg : inspect(arg, { depth: 10, showHidden: true }),
    );
    this.lines.push(`${level} ${text.join(' | ')}`);
  }
}

/**
 * Routes an application might write on top of the module: `AuthApi` results passed
 * straight through, and the client objects logged at debug level.
 */
@Controller('probe')
class ProbeController {
  private readonly logger = new Logger('Probe');
  constructor(private readonly authApi: AuthApi) {}

  @Get('me')
  async me(@AuthToken() token: string) {
    const client = this.authApi.forToken(token);
    this.logger.debug(client);
    this.logger.verbose(this.authApi);
    return client.user();
  }

  @Get('users')
  users(@AuthToken() token: string) {
    return this.authApi.forToken(token).usersForService();
  }

  @ServiceAdmin()
  @Get('schema')
  async schema() {
    return (await this.authApi.asAdmin()).permissions();
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe.each(PLATFORMS)('the leak sweep on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  let proxy: RecordingProxy;
  let trap: Trap;
  let app: RunningApp;
  const logger = new SweepLogger();
  /** Every answer the app gave: status line, every header, the body. */
  const answers: string[] = [];
  /** The tokens handed out to the test (the proxy records the ones handed to the app). */
  const issued = new Set<string>();
  const codes = new Set<string>();
  const cacheSnapshots: string[] = [];
  /** Bodies of successful token responses, kept whole for a positive control. */
  const tokenResponses: string[] = [];

  async function send(path: string, options: CallOptions = {}): Promise<Answer> {
    const answer = await call(`${app.url}${path}`, options);
    let text = answer.text;
    if (answer.status === 200 && typeof answer.body?.access_token === 'string') {
      // A token response carries its own tokens by design; nothing else may be in it.
      tokenResponses.push(text);
      for (const field of ['access_token', 'refresh_token']) {
        const token = answer.body[field];
        if (typeof token === 'string') {
          issued.add(token);
          text = text.replaceAll(token, `<${field}>`);
        }
      }
    }
    const headers = [...answer.headers.entries()].map(([name, value]) => `${name}: ${value}`);
    // The request's own path (it may carry a token) is not part of the answer.
    answers.push([String(answer.status), ...headers, '', text].join('\n'));
    return answer;
  }
  const issue = (user: string, options?: Parameters<AuthServiceEmulator['issueToken']>[1]) => {
    const token = emulator.issueToken(user, options);
    issued.add(token);
    return token;
  };
  const code = (user: string): string => {
    const value = emulator.issueCode(OAUTH_CLIENT.clientId, user);
    codes.add(value);
    return value;
  };
  const login = (username: string, password: string) =>
    send('/auth/login', { method: 'POST', form: { username, password } });
  const snapshotCache = (): void => {
    cacheSnapshots.push(JSON.stringify(app.app.get(TokenVerifier).cachedUsers()));
  };
  /** Faults on upstream answers that repeat what they were sent, as a careless upstream might. */
  const echoingFaults = (): [string, EmulatorFault][] => [
    [
      '500 echoing secrets',
      {
        kind: 'status',
        status: 500,
        body: JSON.stringify({ detail: `password=${PASSWORDS.editor} secret=${JWT_SECRET}` }),
      },
    ],
    [
      '422 echoing the input (FastAPI style)',
      {
        kind: 'status',
        status: 422,
        body: JSON.stringify({
          detail: [{ loc: ['body', 'password'], msg: 'invalid', input: PASSWORDS.editor }],
        }),
      },
    ],
    [
      'HTML 200',
      {
        kind: 'status',
        status: 200,
        body: `<html>${PASSWORDS.viewer} ${OAUTH_CLIENT.clientSecret}</html>`,
        contentType: 'text/html',
      },
    ],
    ['429', { kind: 'status', status: 429, headers: { 'retry-after': '3' } }],
    [
      'redirect to elsewhere',
      { kind: 'status', status: 302, headers: { location: `${trap.url}/steal` } },
    ],
    ['reset', { kind: 'reset' }],
    ['hang', { kind: 'hang' }],
  ];

  beforeAll(async () => {
    emulator = await AuthServiceEmulator.start({
      seed: shopSeed(),
      signing: { algorithm: 'HS256', secret: JWT_SECRET },
      refreshTokens: true,
    });
    proxy = await startRecordingProxy(emulator.url);
    trap = await startTrap();
    app = await startApp(
      platform,
      shopAuth(proxy.url, {
        jwt: { secret: JWT_SECRET },
        oauthClient: OAUTH_CLIENT,
        syncPermissions: { onError: 'warn', retryForMs: 600 },
        timeoutMs: 300,
        circuitBreaker: false,
        // Every new token is looked up, so that each fault reaches the paths that could leak.
        cache: { knownUsers: false },
        login: {
          minFailureMs: 0,
          maxFailureMs: 0,
          limits: { perUsername: { maxFailures: 3, windowMs: 60_000, blockMs: 60_000 } },
        },
      }),
      { logger, features: [ShopFeatureModule, ProbeModule] },
    );
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.stop();
    await trap?.stop();
    await emulator?.stop();
  });

  it('runs the scenario: logins, codes, guarded routes, admin calls, sync, faults, 429s, logout', async () => {
    // Logins, good and bad, form and JSON, and invalid bodies.
    const tokens: Record<string, string> = {};
    for (const [user, password] of Object.entries(PASSWORDS)) {
      const answer = await login(user, password);
      expect(answer.status, show(answer)).toBe(200);
      tokens[user] = answer.body.access_token;
    }
    expect((await login('editor', PASSWORDS.viewer)).status).toBe(401);
    expect((await login('nobody', PASSWORDS.editor)).status).toBe(401);
    const json = await send('/auth/login', {
      method: 'POST',
      json: { username: 'viewer', password: PASSWORDS.viewer, extra: PASSWORDS.root },
    });
    expect(json.status, show(json)).toBe(200);
    for (const body of [
      { username: 'editor', password: `${PASSWORDS.editor}${'x'.repeat(1100)}` },
      { username: PASSWORDS.root.repeat(30), password: PASSWORDS.root },
      { username: 'editor', password: { value: PASSWORDS.editor } },
      { username: ['editor'], password: [PASSWORDS.editor] },
      { username: 'editor', password: PASSWORDS.editor, grant_type: PASSWORDS.admin },
    ]) {
      const answer = await send('/auth/login', { method: 'POST', json: body });
      expect(answer.status, show(answer)).toBe(400);
    }

    // Code exchange: good, reused, malformed.
    const first = code('editor');
    expect((await send('/auth/login/code', { method: 'POST', json: { code: first } })).status).toBe(
      200,
    );
    expect((await send('/auth/login/code', { method: 'POST', json: { code: first } })).status).toBe(
      401,
    );
    expect(
      (await send(`/auth/login/code?code=${code('viewer')}%20x`, { method: 'POST' })).status,
    ).toBe(400);

    // Guarded routes with good, bad, expired and revoked tokens.
    for (const token of Object.values(tokens)) await send('/products/mine', { token });
    await send('/auth/me', { token: tokens.editor });
    await send('/products', { token: `${tokens.editor.slice(0, -2)}xx` });
    await send('/products', { token: issue('editor', { ttlSeconds: -30 }) });
    await send('/products', { token: emulator.signToken(goodClaims('editor'), { jku: trap.url }) });
    const revoked = issue('viewer');
    emulator.revokeToken(revoked);
    await send('/products', { token: revoked });
    await send(`/products?access_token=${tokens.viewer}`);
    snapshotCache();

    // Admin listing users, the raw client results, the admin client.
    expect((await send('/admin/users', { token: tokens.admin })).status).toBe(200);
    expect((await send('/probe/users', { token: tokens.admin })).status).toBe(200);
    expect((await send('/probe/me', { token: tokens.root })).status).toBe(200);
    expect((await send('/probe/schema', { token: tokens.admin })).status).toBe(200);

    // The sync, failing then recovering (it logs every retry).
    const sync = app.app.get(PermissionSyncService);
    emulator.fail({ kind: 'status', status: 503 }, { endpoints: ['permissions'], times: 2 });
    await sync.sync();
    emulator.fail({ kind: 'status', status: 500 }, { endpoints: ['login', 'permissions'] });
    await sync.sync();
    emulator.clearFaults();

    // Upstream faults on every kind of call, each with a new token.
    for (const [what, fault] of echoingFaults()) {
      emulator.fail(fault);
      const lookup = await send('/products', { token: issue('editor') });
      expect([503, 401], `${what}: ${show(lookup)}`).toContain(lookup.status);
      await login('root', PASSWORDS.root);
      await send('/auth/login/code', { method: 'POST', json: { code: code('root') } });
      await send('/probe/users', { token: tokens.admin });
      await send('/probe/me', { token: issue('root') });
      emulator.clearFaults();
    }
    expect(trap.hits).toEqual([]);
    snapshotCache();

    // 429s, then logout.
    for (let i = 0; i < 3; i++) await login('auditor', `${PASSWORDS.editor}-${i}`);
    expect((await login('auditor', PASSWORDS.auditor)).status).toBe(429);
    expect((await send('/auth/logout', { method: 'POST', token: tokens.editor })).status).toBe(204);
    snapshotCache();

    // What the sweep searches must be there to be searched.
    expect(answers.length).toBeGreaterThan(60);
    expect(logger.lines.join('\n')).toContain('Permissions of "shop" synced');
    expect(logger.lines.some((line) => line.startsWith('error '))).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('warn '))).toBe(true);
    expect(logger.lines.some((line) => line.startsWith('debug '))).toBe(true);
    expect(proxy.tokens.size).toBeGreaterThan(Object.keys(PASSWORDS).length);
  });

  it('finds no password, token, secret or password hash in any answer, log line or cache entry', async () => {
    // The hashes, as the auth-service stores them (asked directly, not through the app).
    const hashes: string[] = [];
    for (const user of Object.keys(PASSWORDS)) {
      const answer = await call(`${emulator.url}/auth/user`, { token: issue(user) });
      hashes.push(answer.body.hashed_password);
    }
    expect(hashes.every((hash) => typeof hash === 'string' && hash.length > 20)).toBe(true);

    const allTokens = new Set([...issued, ...proxy.tokens]);
    const needles: [string, string][] = [
      ...Object.entries(PASSWORDS).map(([user, password]) => [`password of ${user}`, password]),
      ...[...allTokens].map((token, i) => [`token #${i}`, token]),
      // The signature alone is as good as the token for a replay within its lifetime.
      ...[...allTokens]
        .filter((token) => token.split('.').length === 3)
        .map((token, i) => [`signature of token #${i}`, token.split('.')[2]]),
      ...[...codes].map((value, i) => [`code #${i}`, value]),
      ...hashes.map((hash, i) => [`password hash #${i}`, hash]),
      ['JWT secret', JWT_SECRET],
      ['OAuth client secret', OAUTH_CLIENT.clientSecret],
      ['the field hashed_password', 'hashed_password'],
      ['the hash scheme', 'scrypt$'],
    ] as [string, string][];
    const haystacks: [string, string[]][] = [
      ['answers', answers],
      ['log lines', logger.lines],
      ['cache', cacheSnapshots],
    ];
    const hits: string[] = [];
    for (const [where, items] of haystacks) {
      items.forEach((item, index) => {
        for (const [what, needle] of needles) {
          if (item.includes(needle))
            hits.push(`${what} in ${where}[${index}]: ${item.slice(0, 200)}`);
        }
      });
    }
    expect(hits).toEqual([]);

    // Positive control: the same search does find the tokens where they belong.
    const delivered = [...issued].filter((token) => tokenResponses.some((t) => t.includes(token)));
    expect(delivered.length).toBeGreaterThan(Object.keys(PASSWORDS).length);
  });

  it('logs no Authorization header or bearer token when upstream calls fail', () => {
    const failures = logger.lines.filter((line) => /auth-service|AuthService/.test(line));
    expect(failures.length).toBeGreaterThan(0);
    for (const line of logger.lines) {
      expect(line).not.toMatch(/authorization/i);
      expect(line).not.toMatch(/Bearer\s+[A-Za-z0-9_-]+\./);
      expect(line).not.toMatch(/AxiosError|x-www-form-urlencoded|grant_type/);
    }
  });
});
