import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import {
  AuthServiceEmulator,
  type AuthServiceEmulatorOptions,
  type EmulatorSeed,
} from '@apex/nest-auth/testing';
import axios from 'axios';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { AuthApi, type AuthApiOptions } from '../../lib/client/index.js';
import type { ServiceMetadata } from '../../lib/client/auth-service.entities.js';
import { PermissionField } from '../../lib/permissions/index.js';

// Credentials are distinctive strings, so a leak into an error shows up in a substring search.
export const SERVICE = 'shop';
export const ADMIN = { username: 'shop-admin', password: 'admin-Pa55-SECRET-a1' };
export const ALICE = { username: 'alice', password: 'alice-Pa55-SECRET-b2' };
export const BOB = { username: 'bob', password: 'bob-Pa55-SECRET-c3' };
export const ROOT = { username: 'root', password: 'root-Pa55-SECRET-d4' };
export const CLIENT = { clientId: 'shop-web', clientSecret: 'client-SECRET-e5' };

/** The permissions class of the typed-metadata tests. */
export class ShopPermissions {
  @PermissionField({ label: 'Can edit products', default: false })
  canEdit!: boolean;

  @PermissionField({ label: 'Region', default: 'eu', values: ['eu', 'us'] })
  region!: string;

  @PermissionField({ label: 'Max items', default: 10 })
  maxItems!: number;
}

/** alice and bob are plain users, shop-admin administers the shop, root is a superadmin. */
export function baseSeed(): EmulatorSeed {
  return {
    users: [
      { ...ADMIN, firstName: 'Shop', lastName: 'Admin', email: 'admin@example.com' },
      {
        ...ALICE,
        firstName: 'Alice',
        lastName: 'Liddell',
        email: 'alice@example.com',
        phoneNumber: '+100',
      },
      { ...BOB },
      { ...ROOT, isAdmin: true },
    ],
    services: [
      {
        name: SERVICE,
        admins: [ADMIN.username],
        metadata: { [ALICE.username]: { canEdit: true, region: 'us' } },
      },
    ],
    clients: [CLIENT],
  };
}

/** An emulator seeded with {@link baseSeed}. */
export function startEmulator(
  options: Omit<AuthServiceEmulatorOptions, 'seed'> = {},
): Promise<AuthServiceEmulator> {
  return AuthServiceEmulator.start({ ...options, seed: baseSeed() });
}

/** A client as an application builds it: a fresh axios instance, no mocks. */
export function plainClient(
  emulator: { url: string },
  options: Partial<AuthApiOptions> = {},
): AuthApi<ServiceMetadata> {
  return new AuthApi(new HttpService(axios.create()), {
    baseUrl: emulator.url,
    serviceName: SERVICE,
    admin: { ...ADMIN },
    oauthClient: { ...CLIENT },
    ...options,
  });
}

/** A client whose metadata is typed by {@link ShopPermissions}. */
export function typedClient(emulator: { url: string }): AuthApi<ShopPermissions> {
  return new AuthApi(new HttpService(axios.create()), {
    baseUrl: emulator.url,
    serviceName: SERVICE,
    admin: { ...ADMIN },
    permissions: ShopPermissions,
  });
}

/** The rejection of a promise, failing the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected a rejection, got a value');
}

/** The error thrown by a synchronous call, failing the test when it returns. */
export function thrownBy(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected a throw, got a value');
}

/** Asserts that no rendering of an error holds any of the secrets. */
export function expectNoSecrets(error: Error, secrets: readonly string[]): void {
  const renderings = [
    error.message,
    JSON.stringify(error),
    String(error.stack),
    String(error),
    inspect(error, { depth: 5 }),
  ];
  for (const secret of secrets) {
    for (const rendering of renderings) expect(rendering).not.toContain(secret);
  }
}

/** A port nothing listens on: one an emulator just gave back. */
export async function deadUrl(): Promise<string> {
  const emulator = await AuthServiceEmulator.start();
  const { url } = emulator;
  await emulator.stop();
  return url;
}
