import type { AuthServiceEmulator, EmulatorEndpoint } from '@apex/nest-auth/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AuthServicePayloadError,
  AuthServiceUnavailableError,
  AuthServiceValidationError,
} from '../../lib/errors/index.js';
import {
  ADMIN,
  ALICE,
  CLIENT,
  SERVICE,
  deadUrl,
  expectNoSecrets,
  plainClient,
  rejectionOf,
  startEmulator,
} from './client-fixtures.js';
import { UserLookup } from '../../lib/verification/user-lookup.js';

const SECRETS = [ALICE.password, ADMIN.password, CLIENT.clientSecret];

describe('failures of the auth-service', () => {
  let emulator: AuthServiceEmulator;
  let aliceToken: string;
  let aliceId: string;

  beforeAll(async () => {
    emulator = await startEmulator({ permissionUpdate: true });
    aliceToken = emulator.issueToken(ALICE.username);
    aliceId = (await plainClient(emulator).forToken(aliceToken).user()).id;
  });
  beforeEach(() => emulator.resetCounters());
  afterEach(() => emulator.clearFaults());
  afterAll(() => emulator.stop());

  const asAlice = () => plainClient(emulator).forToken(aliceToken);
  const asRoot = () => plainClient(emulator).forToken(emulator.issueToken('root'));
  const json = (body: unknown) => ({
    kind: 'status' as const,
    status: 200,
    body: JSON.stringify(body),
  });

  describe('unavailable', () => {
    it.each([500, 502, 503, 504])(
      'maps %i to reason status, retrying a GET once',
      async (status) => {
        emulator.fail({ kind: 'status', status, body: `{"detail":"boom ${ALICE.password}"}` });
        const error = await rejectionOf(asAlice().user());
        expect(error).toBeInstanceOf(AuthServiceUnavailableError);
        expect(error).toMatchObject({ operation: 'user', reason: 'status', status });
        expect(emulator.requestCount('user')).toBe(2);
        expectNoSecrets(error, [...SECRETS, aliceToken, 'boom']);
      },
    );

    it('maps 429 with its Retry-After, and does not retry sooner than asked', async () => {
      emulator.fail({ kind: 'status', status: 429, headers: { 'Retry-After': '7' } });
      const error = await rejectionOf(asAlice().permissions());
      expect(error).toBeInstanceOf(AuthServiceUnavailableError);
      expect(error).toMatchObject({ reason: 'status', status: 429, retryAfterSeconds: 7 });
      expect(emulator.requestCount('permissions')).toBe(1);
    });

    it('ignores a Retry-After that is not a number of seconds', async () => {
      emulator.fail({
        kind: 'status',
        status: 503,
        headers: { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' },
      });
      const error = await rejectionOf(asAlice().user());
      expect((error as AuthServiceUnavailableError).retryAfterSeconds).toBeUndefined();
    });

    it('maps a redirect to reason status without following it', async () => {
      emulator.fail(
        {
          kind: 'status',
          status: 302,
          headers: { Location: `${emulator.url}/services/${SERVICE}/permissions` },
        },
        { endpoints: ['user'] },
      );
      const error = await rejectionOf(asAlice().user());
      expect(error).toBeInstanceOf(AuthServiceUnavailableError);
      expect(error).toMatchObject({ reason: 'status', status: 302 });
      expect(emulator.requestCount('permissions')).toBe(0);
    });

    it('maps a reset connection to reason connection', async () => {
      emulator.fail({ kind: 'reset' });
      const error = await rejectionOf(asAlice().user());
      expect(error).toBeInstanceOf(AuthServiceUnavailableError);
      expect(error).toMatchObject({ operation: 'user', reason: 'connection' });
      expect(error.message).not.toMatch(/ECONNRESET|socket hang up/);
      expectNoSecrets(error, [aliceToken]);
    });

    it('maps a refused connection to reason connection', async () => {
      const auth = plainClient({ url: await deadUrl() });
      const login = await rejectionOf(auth.login(ALICE.username, ALICE.password));
      expect(login).toBeInstanceOf(AuthServiceUnavailableError);
      expect(login).toMatchObject({ operation: 'login', reason: 'connection' });
      expectNoSecrets(login, SECRETS);
      const read = await rejectionOf(auth.forToken(aliceToken).user());
      expect(read).toMatchObject({ operation: 'user', reason: 'connection' });
    });

    it('gives up on a hanging auth-service after timeoutMs, retry included', async () => {
      emulator.fail({ kind: 'hang' });
      const auth = plainClient(emulator, { timeoutMs: 300 });
      for (const call of [
        () => auth.forToken(aliceToken).user(),
        () => auth.login(ALICE.username, ALICE.password),
      ]) {
        const started = performance.now();
        const error = await rejectionOf(call());
        const elapsed = performance.now() - started;
        expect(error).toBeInstanceOf(AuthServiceUnavailableError);
        expect(error).toMatchObject({ reason: 'timeout' });
        expect(elapsed).toBeGreaterThanOrEqual(250);
        expect(elapsed).toBeLessThan(1500);
        expectNoSecrets(error, [...SECRETS, aliceToken]);
      }
    });

    it('retries a GET once after a transient failure and succeeds', async () => {
      emulator.fail({ kind: 'status', status: 503 }, { times: 1 });
      await expect(asAlice().user()).resolves.toMatchObject({ username: ALICE.username });
      expect(emulator.requestCount('user')).toBe(2);
    });

    it.each<[string, EmulatorEndpoint, () => Promise<unknown>]>([
      ['fullMetadataFor', 'serviceUser', () => asRoot().fullMetadataFor(aliceId)],
      ['metadataFor', 'metadata', () => asRoot().metadataFor(aliceId)],
      ['usersForService', 'serviceUsers', () => asRoot().usersForService()],
      ['permissions', 'permissions', () => asRoot().permissions()],
    ])('retries %s after a reset', async (_name, endpoint, call) => {
      emulator.fail({ kind: 'reset' }, { times: 1, endpoints: [endpoint] });
      await expect(call()).resolves.toBeDefined();
      expect(emulator.requestCount(endpoint)).toBe(2);
    });

    it.each<[string, EmulatorEndpoint, () => Promise<unknown>]>([
      ['login', 'login', () => plainClient(emulator).login(ALICE.username, ALICE.password)],
      ['exchangeCode', 'oauthToken', () => plainClient(emulator).exchangeCode('code')],
      ['refresh', 'refresh', () => plainClient(emulator).refresh('refresh-token')],
      [
        'createPermission',
        'createPermission',
        () =>
          asRoot().createPermission({
            name: 'p',
            label: 'P',
            description: '',
            type: 'boolean',
            values: [],
            default: false,
          }),
      ],
      [
        'updatePermission',
        'updatePermission',
        () =>
          asRoot().updatePermission('1', {
            name: 'p',
            label: 'P',
            description: '',
            type: 'boolean',
            values: [],
            default: false,
          }),
      ],
      ['deletePermission', 'deletePermission', () => asRoot().deletePermission('1')],
    ])('never retries %s', async (operation, endpoint, call) => {
      emulator.fail({ kind: 'status', status: 503 }, { times: 1 });
      const error = await rejectionOf(call());
      expect(error).toBeInstanceOf(AuthServiceUnavailableError);
      expect(error).toMatchObject({ operation, status: 503 });
      expect(emulator.requestCount(endpoint)).toBe(1);
    });

    it('does not retry a 4xx', async () => {
      await rejectionOf(asRoot().metadataFor('no-such-user'));
      expect(emulator.requestCount('metadata')).toBe(1);
    });
  });

  describe('invalid payloads', () => {
    it('maps a 2xx HTML body to AuthServicePayloadError, without quoting it', async () => {
      emulator.fail({
        kind: 'status',
        status: 200,
        contentType: 'text/html',
        body: '<html>login portal SECRET-PAGE</html>',
      });
      const error = await rejectionOf(asAlice().user());
      expect(error).toBeInstanceOf(AuthServicePayloadError);
      expect(error).toMatchObject({ operation: 'user', path: 'body' });
      expectNoSecrets(error, ['SECRET-PAGE', '<html>']);
      expect(emulator.requestCount('user')).toBe(1);
    });

    it.each(['.', '..', 'ann\ud800'])(
      'makes a user id that no path can carry (%j) a payload error, for the lookup before any further call',
      async (id) => {
        emulator.fail(
          json({
            id,
            username: ALICE.username,
            first_name: '',
            last_name: '',
            email: '',
            phone_number: '',
            is_admin: false,
          }),
          { endpoints: ['user'] },
        );
        const lookup = new UserLookup(plainClient(emulator), undefined);
        const error = await rejectionOf(lookup.lookUp(aliceToken, undefined));
        expect(error).toBeInstanceOf(AuthServicePayloadError);
        expect(error).toMatchObject({ path: 'id' });
        expect(emulator.requestCount('serviceUser')).toBe(0);
        // An app's own `user()` gets no id it could not pass back to `metadataFor`.
        await expect(asAlice().user()).rejects.toMatchObject({ operation: 'user', path: 'id' });
      },
    );

    it('maps a user without username to AuthServicePayloadError naming the field', async () => {
      emulator.fail(
        json({
          id: 'u1',
          first_name: '',
          last_name: '',
          email: '',
          phone_number: '',
          is_admin: false,
        }),
      );
      const error = await rejectionOf(asAlice().user());
      expect(error).toBeInstanceOf(AuthServicePayloadError);
      expect(error).toMatchObject({ path: 'username' });
      expect(error.message).toContain('username');
    });

    it.each<[string, unknown, () => Promise<unknown>, string, RegExp]>([
      [
        'a login answer without access_token',
        { token_type: 'bearer' },
        () => plainClient(emulator).login(ALICE.username, ALICE.password),
        'access_token',
        /missing/,
      ],
      ['a JSON array', [1, 2], () => asAlice().user(), 'body', /object/],
      ['a null body', null, () => asAlice().user(), 'body', /object/],
      [
        'a numeric is_admin',
        {
          id: 'u',
          username: 'x',
          first_name: '',
          last_name: '',
          email: '',
          phone_number: '',
          is_admin: 1,
        },
        () => asAlice().user(),
        'is_admin',
        /boolean/,
      ],
      [
        'a permission of an unknown type',
        {
          data: {
            permissions: [
              {
                id: '1',
                name: 'a',
                label: '',
                description: '',
                type: 'date',
                values: [],
                default: '',
              },
            ],
          },
        },
        () => asAlice().permissions(),
        'data.permissions[0].type',
        /one of/,
      ],
      [
        'a default of the wrong type',
        {
          data: {
            permissions: [
              {
                id: 1,
                name: 'a',
                label: '',
                description: '',
                type: 'integer',
                values: [],
                default: 2,
              },
              {
                id: 2,
                name: 'b',
                label: '',
                description: '',
                type: 'boolean',
                values: [],
                default: 'no',
              },
            ],
          },
        },
        () => asAlice().permissions(),
        'data.permissions[1].default',
        /boolean/,
      ],
      [
        'a non-integer value of an integer permission',
        {
          data: {
            permissions: [
              {
                id: '1',
                name: 'a',
                label: '',
                description: '',
                type: 'integer',
                values: [1, 1.5],
                default: 1,
              },
            ],
          },
        },
        () => asAlice().permissions(),
        'data.permissions[0].values[1]',
        /integer/,
      ],
      [
        'metadata that is not an object',
        { data: { metadata: { user_id: 'u', metadata: 'all' } } },
        () => asAlice().metadataFor('u'),
        'data.metadata.metadata',
        /object/,
      ],
      [
        'a service user without is_service_admin',
        {
          data: {
            user: {
              user: {
                id: 'u',
                username: 'x',
                first_name: '',
                last_name: '',
                email: '',
                phone_number: '',
                is_admin: false,
              },
              metadata: {},
            },
          },
        },
        () => asAlice().fullMetadataFor('u'),
        'data.user.is_service_admin',
        /missing/,
      ],
      [
        'a user list entry with a broken user',
        {
          data: {
            users: [{ user: { id: 'u', username: 7 }, is_service_admin: false, metadata: {} }],
          },
        },
        () => asAlice().usersForService(),
        'data.users[0].user.username',
        /string/,
      ],
      [
        'a created permission without envelope',
        { id: '1', name: 'a' },
        () =>
          asAlice().createPermission({
            name: 'a',
            label: 'A',
            description: '',
            type: 'boolean',
            values: [],
            default: true,
          }),
        'data',
        /missing/,
      ],
    ])('maps %s to AuthServicePayloadError', async (_case, body, call, path, problem) => {
      emulator.fail(json(body));
      const error = await rejectionOf(call());
      expect(error).toBeInstanceOf(AuthServicePayloadError);
      expect((error as AuthServicePayloadError).path).toBe(path);
      expect(error.message).toMatch(problem);
    });

    it('tolerates null optional token fields and extra fields', async () => {
      emulator.fail(
        json({
          access_token: 'a.b.c',
          token_type: 'bearer',
          refresh_token: null,
          expires_in: null,
          scope: 'x',
        }),
      );
      await expect(plainClient(emulator).login(ALICE.username, ALICE.password)).resolves.toEqual({
        accessToken: 'a.b.c',
        tokenType: 'bearer',
      });
    });
  });

  describe('validation errors', () => {
    it('lists loc and msg of a FastAPI list detail, never the input', async () => {
      emulator.fail({
        kind: 'status',
        status: 422,
        body: JSON.stringify({
          detail: [
            {
              loc: ['body', 'password'],
              msg: 'Field required',
              type: 'missing',
              input: ALICE.password,
            },
            {
              loc: ['body', 'values', 0],
              msg: 'Input should be a valid integer',
              input: 'INPUT-i9',
            },
            { msg: 'Value error, bad', ctx: { secret: 'CTX-SECRET-j0' } },
            'not an issue',
          ],
        }),
      });
      const error = await rejectionOf(plainClient(emulator).login(ALICE.username, ALICE.password));
      expect(error).toBeInstanceOf(AuthServiceValidationError);
      expect((error as AuthServiceValidationError).issues).toEqual([
        'body.password: Field required',
        'body.values.0: Input should be a valid integer',
        'Value error, bad',
      ]);
      expectNoSecrets(error, [...SECRETS, 'INPUT-i9', 'CTX-SECRET-j0']);
    });

    it.each([400, 413, 422])('never echoes a string detail (%i)', async (status) => {
      emulator.fail({ kind: 'status', status, body: `{"detail":"bad ${ALICE.password}"}` });
      const error = await rejectionOf(plainClient(emulator).login(ALICE.username, ALICE.password));
      expect(error).toBeInstanceOf(AuthServiceValidationError);
      expect(error).toMatchObject({ status, issues: [] });
      expectNoSecrets(error, SECRETS);
    });
  });
});
