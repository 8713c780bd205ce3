import type { Type } from '@nestjs/common';
import type * as Swagger from '@nestjs/swagger';
import { AuthController, CodeExchangeRoute } from '../login/auth.controller.js';
import {
  AuthorizationCodeDto,
  LoginDto,
  MAX_CODE_LENGTH,
  MAX_REFRESH_TOKEN_LENGTH,
  RefreshTokenDto,
} from '../login/login.dtos.js';

/** `@nestjs/swagger`, as the module loads it when the app has it. */
export type SwaggerPackage = typeof Swagger;

type SchemaObject = Swagger.SchemaObject;

/** Both bodies a login route takes: the OAuth2 form (Swagger's "Authorize" sends it) and JSON. */
const BODY_TYPES = ['application/x-www-form-urlencoded', 'application/json'];

/** An object schema, which `model` makes a named schema of. */
interface ObjectSchema {
  description?: string;
  required: string[];
  properties: Record<string, SchemaObject>;
}

const TOKEN_RESPONSE: ObjectSchema = {
  description: 'An RFC 6749 §5.1 token response',
  required: ['access_token', 'token_type'],
  properties: {
    access_token: { type: 'string', description: 'the bearer token (a JWT)' },
    token_type: { type: 'string', enum: ['Bearer'] },
    refresh_token: {
      type: 'string',
      description:
        'when the auth-service issues refresh tokens; each works once (POST refresh answers the next one)',
    },
    expires_in: { type: 'number', description: 'seconds until the access token expires' },
  },
};

/** Nest's error body. */
const ERROR_RESPONSE: ObjectSchema = {
  required: ['statusCode', 'message', 'error'],
  properties: {
    statusCode: { type: 'integer' },
    message: { type: 'string' },
    error: { type: 'string' },
  },
};

/** Nest's error body of a `400` of the validation pipe: one message per invalid field. */
const VALIDATION_ERROR_RESPONSE: ObjectSchema = {
  ...ERROR_RESPONSE,
  properties: {
    ...ERROR_RESPONSE.properties,
    message: { type: 'array', items: { type: 'string' } },
  },
};

const AUTHENTICATED_USER: ObjectSchema = {
  required: ['id', 'username', 'isAdmin', 'isServiceAdmin', 'metadata'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    email: { type: 'string' },
    phoneNumber: { type: 'string' },
    isAdmin: { type: 'boolean', description: 'a superadmin' },
    isServiceAdmin: { type: 'boolean', description: 'an admin of this service' },
    metadata: {
      type: 'object',
      additionalProperties: true,
      description: "the user's permissions in this service, defaults filled in",
    },
  },
};

const RETRY_AFTER = {
  'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } },
};
const NO_STORE = { 'Cache-Control': { schema: { type: 'string', enum: ['no-store'] } } };

let documented = false;

/**
 * Documents `AuthController`'s routes and bodies with `@nestjs/swagger`'s own
 * decorators, applied once to the class itself, so that a subclass mounted by
 * the app inherits them as it inherits the routes.
 */
export function documentAuthRoutes(swagger: SwaggerPackage): void {
  if (documented) return;
  documented = true;
  documentBodies(swagger);
  const {
    ApiBody,
    ApiConsumes,
    ApiNoContentResponse,
    ApiOkResponse,
    ApiOperation,
    ApiQuery,
    ApiResponse,
  } = swagger;
  const tokenResponse = model(swagger, 'AuthTokenResponse', TOKEN_RESPONSE);
  const errorResponse = model(swagger, 'AuthErrorResponse', ERROR_RESPONSE);
  const error = (status: number, description: string, headers?: object): MethodDecorator =>
    ApiResponse({ status, description, type: errorResponse, headers: headers as never });
  const tokens = ApiOkResponse({
    description: 'a token set',
    type: tokenResponse,
    headers: NO_STORE,
  });
  const invalidFields = ApiResponse({
    status: 400,
    description: 'a missing or invalid field (one message per field)',
    type: model(swagger, 'AuthValidationErrorResponse', VALIDATION_ERROR_RESPONSE),
  });
  const tooMany = error(429, 'too many failed attempts from this address or for this username', {
    ...RETRY_AFTER,
  });
  const noToken = error(401, 'missing, invalid or expired token');
  const unavailable = error(503, 'the auth-service is unavailable (never a 401)', RETRY_AFTER);
  const routes: Record<string, MethodDecorator[]> = {
    login: [
      ApiOperation({
        summary: 'Password login',
        description:
          'The OAuth2 password grant (a form, as Swagger UI\'s "Authorize" sends it) or JSON. Wrong credentials of any kind are one 401.',
      }),
      ApiConsumes(...BODY_TYPES),
      ApiBody({ type: LoginDto }),
      tokens,
      invalidFields,
      error(401, 'invalid username or password'),
      tooMany,
      unavailable,
    ],
    loginWithCode: [
      ApiOperation({
        summary: 'OAuth authorization-code exchange',
        description: '`code` in the query, or in a form or JSON body.',
      }),
      ApiQuery({ name: 'code', required: false, type: String }),
      ApiConsumes(...BODY_TYPES),
      ApiBody({ type: AuthorizationCodeDto, required: false }),
      tokens,
      invalidFields,
      error(401, 'invalid authorization code'),
      tooMany,
      unavailable,
    ],
    refresh: [
      ApiOperation({
        summary: 'New tokens for a refresh token',
        description:
          'The refresh token is spent: keep the one in the answer. A refused or reused one is a 401, counted as a failed login of the address.',
      }),
      ApiConsumes(...BODY_TYPES),
      ApiBody({ type: RefreshTokenDto }),
      tokens,
      invalidFields,
      error(401, 'invalid refresh token (refused, or already used)'),
      tooMany,
      error(501, 'the auth-service does not support refresh tokens'),
      unavailable,
    ],
    me: [
      ApiOperation({ summary: 'The current user' }),
      ApiOkResponse({
        description: 'the current user',
        type: model(swagger, 'AuthenticatedUser', AUTHENTICATED_USER),
      }),
      noToken,
      unavailable,
    ],
    logout: [
      ApiOperation({
        summary: "Forget the caller's token in this service's cache",
        description:
          'The auth-service has no revocation: the token stays valid there until it expires.',
      }),
      ApiNoContentResponse({ description: 'forgotten' }),
      noToken,
      unavailable,
    ],
  };
  for (const [method, decorators] of Object.entries(routes)) {
    const prototype = (method === 'loginWithCode' ? CodeExchangeRoute : AuthController)
      .prototype as unknown as Record<string, unknown>;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, method)!;
    for (const decorate of decorators) decorate(prototype, method, descriptor);
  }
}

/**
 * A class that `@nestjs/swagger` shows as the named schema `name` (it names a
 * schema after its class): answers are plain objects, so there is no class of
 * ours to document.
 */
function model({ ApiProperty }: SwaggerPackage, name: string, schema: ObjectSchema): Type {
  const type = { [name]: class {} }[name];
  for (const [key, property] of Object.entries(schema.properties)) {
    ApiProperty({
      ...property,
      required: schema.required.includes(key),
    } as Swagger.ApiPropertyOptions)(type.prototype, key);
  }
  return type;
}

/** The DTOs' fields, which the decorators of `class-validator` do not tell `@nestjs/swagger`. */
function documentBodies({ ApiProperty }: SwaggerPackage): void {
  const property = (target: object, name: string, options: Swagger.ApiPropertyOptions): void =>
    ApiProperty(options)((target as { prototype: object }).prototype, name);
  property(LoginDto, 'username', { type: String, maxLength: 256, example: 'alice' });
  property(LoginDto, 'password', { type: String, format: 'password', maxLength: 1024 });
  property(LoginDto, 'grant_type', {
    type: String,
    enum: ['password'],
    required: false,
    description: 'the OAuth2 password grant; scope, client_id and client_secret are ignored',
  });
  property(AuthorizationCodeDto, 'code', {
    type: String,
    maxLength: MAX_CODE_LENGTH,
    pattern: '^[A-Za-z0-9._~+/=-]+$',
  });
  property(RefreshTokenDto, 'refresh_token', {
    type: String,
    maxLength: MAX_REFRESH_TOKEN_LENGTH,
    description: 'the refresh token of the last token response',
  });
  property(RefreshTokenDto, 'grant_type', {
    type: String,
    enum: ['refresh_token'],
    required: false,
  });
}
