import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

// A real salted KDF, so `hashed_password` looks and behaves like the real thing, but with
// a low cost: this is a test fixture, and seeding many users must stay instant.
const SCRYPT_OPTIONS = { N: 1024, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const PREFIX = 'scrypt';

/** Hashes a password (or client secret) into `scrypt$<salt>$<hash>`, base64url parts. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LENGTH, SCRYPT_OPTIONS);
  return `${PREFIX}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether `password` matches a hash made by {@link hashPassword}, compared in constant time. */
export function verifyPassword(password: string, stored: string): boolean {
  const [prefix, salt, hash] = stored.split('$');
  if (prefix !== PREFIX || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(
    password,
    Buffer.from(salt, 'base64url'),
    expected.length,
    SCRYPT_OPTIONS,
  );
  return timingSafeEqual(actual, expected);
}
