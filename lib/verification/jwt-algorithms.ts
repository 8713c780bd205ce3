import type { KeyObject } from 'node:crypto';
import { ApexAuthOptionsError } from '../errors/index.js';
import type { JwtAlgorithm } from '../module/apex-auth.options.js';

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
