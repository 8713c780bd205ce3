import { type KeyObject, createPublicKey, createSecretKey } from 'node:crypto';
import { ApexAuthOptionsError } from '../errors/index.js';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';
import type { JwtHeader } from './token-screen.js';

export const HMAC_ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'HS384', 'HS512'];
export const RSA_ALGORITHMS: readonly JwtAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
];
const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, JwtAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
export const ASYMMETRIC_ALGORITHMS: readonly JwtAlgorithm[] = [
  ...RSA_ALGORITHMS,
  ...Object.values(EC_ALGORITHM_BY_CURVE),
];

/** RFC 8725 §3.5 and NIST: RSA keys below 2048 bits are refused. */
export const MIN_RSA_BITS = 2048;

/**
 * The algorithms a key can verify: the allow-list is derived from the key, so
 * that an HMAC token can never be checked against a public key (algorithm
 * confusion, RFC 8725 §2.1) and `none` is never accepted.
 *
 * @param option - the option path for error messages
 */
export function algorithmsForKey(key: KeyObject, option: string): readonly JwtAlgorithm[] {
  if (key.type === 'secret') return HMAC_ALGORITHMS;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw new ApexAuthOptionsError(
        option,
        `RSA key has ${details?.modulusLength} bits; at least ${MIN_RSA_BITS} are required`,
      );
    }
    return RSA_ALGORITHMS;
  }
  const curveAlgorithm =
    key.asymmetricKeyType === 'ec' ? EC_ALGORITHM_BY_CURVE[details?.namedCurve ?? ''] : undefined;
  if (curveAlgorithm) return [curveAlgorithm];
  throw new ApexAuthOptionsError(option, `unsupported key type ${key.asymmetricKeyType}`);
}

/**
 * The configured `algorithms`, checked against what the key allows.
 * Without a configured list, everything the key allows.
 */
export function allowedAlgorithms(
  keyAllows: readonly JwtAlgorithm[],
  configured: readonly string[] | undefined,
): JwtAlgorithm[] {
  if (configured === undefined) return [...keyAllows];
  if (!Array.isArray(configured) || configured.length === 0) {
    throw new ApexAuthOptionsError('jwt.algorithms', 'must be a non-empty array');
  }
  for (const algorithm of configured) {
    if (!keyAllows.includes(algorithm as JwtAlgorithm)) {
      throw new ApexAuthOptionsError(
        'jwt.algorithms',
        `${JSON.stringify(algorithm)} does not fit the configured key (allowed: ${keyAllows.join(', ')})`,
      );
    }
  }
  return configured.map((algorithm) => algorithm as JwtAlgorithm);
}

/**
 * Where the verification key of a token comes from: one configured key, or
 * the auth-service's JWKS. Keys are `KeyObject`s imported once, never strings
 * re-imported per token.
 */
export interface JwtKeySource {
  /** Every algorithm a token may be signed with; anything else is refused before verification. */
  readonly algorithms: readonly JwtAlgorithm[];
  /**
   * The key for a token's header.
   *
   * @throws AuthenticationFailure when no known key fits (unknown `kid`)
   * @throws AuthServiceUnavailableError when the keys cannot be had at all
   */
  keyFor(header: JwtHeader): KeyObject | Promise<KeyObject>;
  /** Loads what it needs ahead of the first request; failures are for the caller to log. */
  warmUp?(): Promise<void>;
}

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
