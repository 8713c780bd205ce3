import { createServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listenOnLoopback, type LoopbackServer } from '../fixtures/loopback.js';
import { CLIENT, plainClient } from './client-fixtures.js';

// What the client puts on the wire and which answers it takes: the emulator only shows
// what it kept of a request, so a double records what came, and answers as told.

interface Recorded {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

interface Answer {
  status: number;
  body?: string;
}

const TOKEN_ANSWER = JSON.stringify({
  access_token: 'header.payload.signature',
  token_type: 'bearer',
});
const PERMISSION = {
  name: 'canEdit',
  label: 'Can edit',
  description: '',
  type: 'boolean',
  values: [],
  default: false,
} as const;

describe('what the client sends and accepts', () => {
  let double: LoopbackServer;
  const requests: Recorded[] = [];
  let answer: Answer = { status: 200, body: '{}' };

  beforeAll(async () => {
    double = await listenOnLoopback(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          requests.push({
            method: req.method ?? '',
            url: req.url ?? '',
            contentType: req.headers['content-type'],
            body: Buffer.concat(chunks).toString('utf8'),
          });
          if (answer.body !== undefined) res.setHeader('content-type', 'application/json');
          res.writeHead(answer.status);
          res.end(answer.body);
        });
      }),
    );
  });
  beforeEach(() => {
    requests.length = 0;
  });
  afterAll(() => double.stop());

  it('a password login sends empty client_id and client_secret, never the OAuth client’s', async () => {
    answer = { status: 200, body: TOKEN_ANSWER };
    await plainClient(double).login('alice', 'alice-password');
    expect(requests).toHaveLength(1);
    const form = new URLSearchParams(requests[0].body);
    expect(requests[0].contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'password',
      username: 'alice',
      password: 'alice-password',
      scope: '',
      client_id: '',
      client_secret: '',
    });
    expect(requests[0].body).not.toContain(CLIENT.clientSecret);
    expect(requests[0].body).not.toContain(CLIENT.clientId);
  });

  it('the code exchange still sends the OAuth client’s id and secret', async () => {
    answer = { status: 200, body: TOKEN_ANSWER };
    await plainClient(double).exchangeCode('a-code');
    const form = new URLSearchParams(requests[0].body);
    expect(Object.fromEntries(form)).toEqual({
      code: 'a-code',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
  });

  it('a create body holds the contract’s fields only, never an id', async () => {
    answer = {
      status: 201,
      body: JSON.stringify({ data: { permission: { ...PERMISSION, id: 'p-1' } } }),
    };
    const api = plainClient(double).forToken('a-token');
    await api.createPermission({ ...PERMISSION, id: 'stale-id', extra: true } as never);
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/services/shop/permissions' });
    expect(JSON.parse(requests[0].body)).toEqual(PERMISSION);
  });

  it.each<[string, Answer]>([
    ['200 with a JSON object, as the contract has it', { status: 200, body: '{"data":{}}' }],
    ['200 without a body', { status: 200 }],
    ['204 without a body', { status: 204 }],
    ['200 with a body that is no JSON at all', { status: 200, body: 'deleted' }],
  ])('a delete accepts %s', async (_case, given) => {
    answer = given;
    await expect(
      plainClient(double).forToken('a-token').deletePermission('p-1'),
    ).resolves.toBeUndefined();
    expect(requests[0]).toMatchObject({ method: 'DELETE', url: '/services/shop/permissions/p-1' });
  });
});
