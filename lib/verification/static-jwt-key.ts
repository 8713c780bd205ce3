import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { ApexAuthOptionsError } from '../errors/index.js';
import { algorithmsForKey, allowedAlgorithms } from './jwt-algorithms.js';
import type { JwtKeySource } from './jwt-key-source.js';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash. */
export const MIN_HMAC_SECRET_BYTES = 32;

/** One key given in the options: an HMAC secret or a PEM public key. */
export class StaticJwtKey implements JwtKeySource {
  readonly algorithms: readonly JwtAlgorithm[];

  private constructor(
    private readonly key: KeyObject,
    configuredAlgorithms: readonly string[] | undefined,
    option: string,
  ) {
    this.algorithms = allowedAlgorithms(algorithmsForKey(key, option), configuredAlgorithms);
  }

  /** @throws ApexAuthOptionsError for a secret shorter than 32 bytes */
  static fromSecret(secret: unknown, algorithms?: readonly string[]): StaticJwtKey {
    if (typeof secret !== 'string')
      throw new ApexAuthOptionsError('jwt.secret', 'must be a string');
    const bytes = Buffer.byteLength(secret, 'utf8');
    if (bytes < MIN_HMAC_SECRET_BYTES) {
      throw new ApexAuthOptionsError(
        'jwt.secret',
        `is ${bytes} bytes long; an HMAC secret must have at least ${MIN_HMAC_SECRET_BYTES} bytes, or it can be brute-forced from one token (RFC 8725 §3.5)`,
      );
    }
    return new StaticJwtKey(
      createSecretKey(Buffer.from(secret, 'utf8')),
      // RFC 8725 §3.1: one algorithm per key, the one the auth-service signs with, unless told otherwise.
      algorithms ?? ['HS256'],
      'jwt.secret',
    );
  }

  /** @throws ApexAuthOptionsError for a PEM that is not a public RSA (≥ 2048 bits) or EC key */
  static fromPublicKeyPem(pem: unknown, algorithms?: readonly string[]): StaticJwtKey {
    if (typeof pem !== 'string')
      throw new ApexAuthOptionsError('jwt.publicKey', 'must be a PEM string');
    // Node would derive the public half of a private key; a service that
    // verifies tokens must not hold the key that signs them.
    if (pem.includes('PRIVATE KEY')) {
      throw new ApexAuthOptionsError('jwt.publicKey', 'is a private key; give the public key only');
    }
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new ApexAuthOptionsError('jwt.publicKey', 'is not a valid PEM public key');
    }
    return new StaticJwtKey(key, algorithms, 'jwt.publicKey');
  }

  keyFor(): KeyObject {
    return this.key;
  }
}
