import { authenticate, tokenResponse } from '../auth.js';
import type { EmulatorContext, EmulatorRequest } from '../context.js';
import { BEARER_CHALLENGE, HttpError, validationError, type Reply } from '../http.js';
import { formField, missingFormFields } from '../validation.js';

const EMPTY_FORM = new URLSearchParams();

/**
 * Endpoint 1, the password grant (`grant_type` absent, empty or `password`). Also answers
 * the refresh grant while refresh tokens are off, as FastAPI's `^password$` pattern would.
 */
export function login(context: EmulatorContext, request: EmulatorRequest): Reply {
  const form = request.form ?? EMPTY_FORM;
  const grantType = formField(form, 'grant_type');
  const issues = missingFormFields(form, ['username', 'password']);
  if (grantType !== undefined && grantType !== 'password') {
    const pattern = context.options.refreshTokens ? '^(password|refresh_token)$' : '^password$';
    issues.unshift({
      loc: ['body', 'grant_type'],
      msg: `String should match pattern '${pattern}'`,
      type: 'string_pattern_mismatch',
    });
  }
  if (issues.length > 0) throw validationError(issues);
  const user = context.state.authenticate(
    formField(form, 'username') ?? '',
    formField(form, 'password') ?? '',
  );
  if (user === undefined) {
    throw new HttpError(401, 'Incorrect username or password', BEARER_CHALLENGE);
  }
  return { status: 200, body: tokenResponse(context, user) };
}

/** Endpoint 11, the refresh grant: every refresh token works once and is replaced by a new one. */
export function refresh(context: EmulatorContext, request: EmulatorRequest): Reply {
  if (!context.options.refreshTokens) return login(context, request);
  const form = request.form ?? EMPTY_FORM;
  const issues = missingFormFields(form, ['refresh_token']);
  if (issues.length > 0) throw validationError(issues);
  const user = context.state.redeemRefreshToken(formField(form, 'refresh_token') ?? '');
  if (user === undefined) {
    throw new HttpError(401, 'Invalid refresh token', BEARER_CHALLENGE);
  }
  return { status: 200, body: tokenResponse(context, user) };
}

/** Endpoint 2, the authorization-code exchange of a registered OAuth client. */
export function oauthToken(context: EmulatorContext, request: EmulatorRequest): Reply {
  const form = request.form ?? EMPTY_FORM;
  const issues = missingFormFields(form, ['code', 'client_id', 'client_secret']);
  if (issues.length > 0) throw validationError(issues);
  const clientId = formField(form, 'client_id') ?? '';
  if (!context.state.verifyClient(clientId, formField(form, 'client_secret') ?? '')) {
    throw new HttpError(401, 'Invalid client');
  }
  const user = context.state.redeemCode(formField(form, 'code') ?? '', clientId);
  if (user === undefined) throw new HttpError(401, 'Invalid code');
  return { status: 200, body: tokenResponse(context, user) };
}

/** Endpoint 3: the token's owner, `hashed_password` included, as the real service leaks it. */
export function currentUser(context: EmulatorContext, request: EmulatorRequest): Reply {
  return { status: 200, body: authenticate(context, request.headers) };
}

/** The JWKS document in RS256 mode; `404` in HS256 mode, which has no public key. */
export function jwks(context: EmulatorContext): Reply {
  const document = context.tokens.jwks();
  if (document === undefined) throw new HttpError(404, 'Not Found');
  return { status: 200, body: document };
}
