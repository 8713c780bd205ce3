import { createHmac } from 'node:crypto';
import { BENCH_SECRET, BENCH_USER } from '../app/bench-config.js';

const segment = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const HEADER = segment({ alg: 'HS256', typ: 'JWT' });

/**
 * Access tokens of the bench's user, signed as the emulator signs them (same
 * secret, same claims), each one distinct: a new token is one the app has
 * never seen. Made in the harness, before a run, so that the run measures the
 * app and not the minting.
 */
export class TokenMint {
  private issued = 0;

  constructor(private readonly label: string) {}

  /** A token no one has used yet, valid for an hour. */
  next(): string {
    const iat = Math.floor(Date.now() / 1000);
    const payload = segment({
      sub: BENCH_USER.username,
      iat,
      exp: iat + 3600,
      jti: `${this.label}-${++this.issued}`,
    });
    const input = `${HEADER}.${payload}`;
    return `${input}.${createHmac('sha256', BENCH_SECRET).update(input).digest('base64url')}`;
  }

  /** `count` new tokens. */
  many(count: number): string[] {
    return Array.from({ length: count }, () => this.next());
  }
}
