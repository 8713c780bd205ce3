import {
  createHmac,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { EmulatorSigning } from './options.js';

/** The public signing key as one entry of a JWKS document. */
export interface EmulatorJwk {
  readonly kty: string;
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly alg: 'RS256';
  readonly use: 'sig';
}

/** The document served at `/.well-known/jwks.json` in RS256 mode. */
export interface EmulatorJwks {
  readonly keys: EmulatorJwk[];
}

type JsonObject = Record<string, unknown>;

// Non-empty base64url only: rejects `alg: none` style tokens with an empty signature
// and anything that is not a compact JWS before any decoding happens.
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Signs and verifies compact JWS tokens with a key made once, when the emulator starts.
 * It knows nothing about claims: expiry, revocation and users are checked by the caller.
 */
export class EmulatorTokens {
  /** The `alg` of every token this signer issues and accepts. */
  readonly algorithm: EmulatorSigning['algorithm'];
  /** The `kid` put in token headers and in the JWKS. */
  readonly keyId: string = randomBytes(8).toString('hex');
  /** HS256: the shared secret. RS256: `undefined`. */
  readonly hmacSecret: string | undefined;
  /** RS256: the SPKI PEM of the public key. HS256: `undefined`. */
  readonly publicKeyPem: string | undefined;
  private readonly signingKey: KeyObject;
  private readonly publicKey: KeyObject | undefined;

  constructor(signing: EmulatorSigning) {
    this.algorithm = signing.algorithm;
    if (signing.algorithm === 'HS256') {
      this.hmacSecret = signing.secret;
      this.signingKey = createSecretKey(Buffer.from(signing.secret, 'utf8'));
    } else {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.signingKey = privateKey;
      this.publicKey = publicKey;
      this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    }
  }

  /** Signs `payload` as is; `header` fields are merged over `{alg, typ: 'JWT', kid}`. */
  sign(payload: JsonObject, header: JsonObject = {}): string {
    const head = encodeSegment({ alg: this.algorithm, typ: 'JWT', kid: this.keyId, ...header });
    const signingInput = `${head}.${encodeSegment(payload)}`;
    return `${signingInput}.${this.signature(signingInput).toString('base64url')}`;
  }

  /**
   * The payload of `token` when it is a well-formed JWS whose header names this signer's
   * algorithm and whose signature is valid; otherwise `undefined`.
   */
  verify(token: string): JsonObject | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return undefined;
    const [head, body, signature] = parts as [string, string, string];
    const header = decodeSegment(head);
    if (header?.alg !== this.algorithm) return undefined;
    if (!this.signatureMatches(`${head}.${body}`, signature)) return undefined;
    return decodeSegment(body);
  }

  /** RS256: the JWKS document of the public key. HS256: `undefined` (a shared secret is never published). */
  jwks(): EmulatorJwks | undefined {
    if (this.publicKey === undefined) return undefined;
    const { kty, n, e } = this.publicKey.export({ format: 'jwk' });
    if (kty === undefined || n === undefined || e === undefined) return undefined;
    return { keys: [{ kty, n, e, kid: this.keyId, alg: 'RS256', use: 'sig' }] };
  }

  private signature(signingInput: string): Buffer {
    const data = Buffer.from(signingInput, 'utf8');
    return this.algorithm === 'HS256'
      ? createHmac('sha256', this.signingKey).update(data).digest()
      : sign('sha256', data, this.signingKey);
  }

  private signatureMatches(signingInput: string, encoded: string): boolean {
    const given = Buffer.from(encoded, 'base64url');
    // Base64url ignores the spare bits of the last character, so several strings decode
    // to the same bytes; only the canonical spelling is the signature that was issued.
    if (given.toString('base64url') !== encoded) return false;
    if (this.publicKey === undefined) {
      const expected = this.signature(signingInput);
      return given.length === expected.length && timingSafeEqual(given, expected);
    }
    try {
      return verify('sha256', Buffer.from(signingInput, 'utf8'), this.publicKey, given);
    } catch {
      return false;
    }
  }
}

function encodeSegment(value: JsonObject): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeSegment(segment: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every token one emulator handed out, access and refresh alike, oldest first: kept so
 * that a test can search what its app answered and logged for them.
 */
export class IssuedTokens {
  private readonly tokens: string[] = [];

  /** Notes `token` as issued; returns it. */
  record(token: string): string {
    this.tokens.push(token);
    return token;
  }

  /** A copy of every token noted so far, oldest first. */
  all(): string[] {
    return [...this.tokens];
  }
}
