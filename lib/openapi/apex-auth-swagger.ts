import { ROUTE_SECURITY_EXTENSION, type RouteSecurity } from './route-security.js';

/** The names under which the security schemes are registered. */
const BEARER = 'bearer';
const OAUTH2 = 'oauth2';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** What `setup` reads and writes of an operation. */
interface Operation {
  description?: string;
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
  [ROUTE_SECURITY_EXTENSION]?: RouteSecurity;
}

/** What `setup` reads and writes of a document. */
interface Document {
  paths: Record<string, Record<string, Operation | undefined> | undefined>;
  components?: { securitySchemes?: Record<string, unknown> };
}

/**
 * The module's part of an OpenAPI document made by `@nestjs/swagger`.
 *
 * @example
 * ```ts
 * const config = new DocumentBuilder().setTitle('Shop').build();
 * const document = ApexAuthSwagger.setup(SwaggerModule.createDocument(app, config));
 * SwaggerModule.setup('docs', app, document);
 * ```
 */
export class ApexAuthSwagger {
  private constructor() {}

  /**
   * Adds the security schemes and each route's security to a document made by
   * `SwaggerModule.createDocument(app, config)`, and returns it (the same
   * object, changed):
   * - `bearer` (HTTP bearer, a JWT) and, when `AuthController` is mounted,
   *   `oauth2`: the password flow with `tokenUrl` the login route (and
   *   `refreshUrl` the refresh route), so that Swagger UI's "Authorize" logs in
   *   through it;
   * - every route that needs a token (the global guard's, or
   *   `@UseGuards(ApexAuthGuard)` or `AuthGuard('apex-auth')`, not
   *   `@Public()`) lists both schemes in `security`, with a `401`, and a `403`
   *   when it has requirements, which its description names (permissions by
   *   name, never their values);
   * - every `@Public()` route has `security: []` (open, whatever the document's
   *   own default).
   *
   * Routes the module does not guard are left as they are.
   */
  static setup<D extends { paths: object; components?: object }>(document: D): D {
    const doc = document as unknown as Document;
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.flatMap((method) => {
        const operation = item?.[method];
        return operation === undefined ? [] : [{ path, operation }];
      }),
    );
    const endpointPath = (endpoint: RouteSecurity['endpoint']): string | undefined =>
      operations.find(({ operation }) => operation[ROUTE_SECURITY_EXTENSION]?.endpoint === endpoint)
        ?.path;
    const tokenUrl = endpointPath('password-login');
    const refreshUrl = endpointPath('refresh');
    const schemes = ((doc.components ??= {}).securitySchemes ??= {});
    schemes[BEARER] = {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'an access token of the auth-service',
    };
    if (tokenUrl !== undefined) {
      schemes[OAUTH2] = {
        type: 'oauth2',
        description: 'log in with a username and password through the login route',
        flows: { password: { tokenUrl, ...(refreshUrl ? { refreshUrl } : {}), scopes: {} } },
      };
    }
    // Either scheme will do: Swagger UI sends the token of whichever the user authorized with.
    const schemeNames = tokenUrl === undefined ? [BEARER] : [BEARER, OAUTH2];
    for (const { operation } of operations) {
      const security = operation[ROUTE_SECURITY_EXTENSION];
      delete operation[ROUTE_SECURITY_EXTENSION];
      if (security === undefined) continue;
      if (security.access === 'open') {
        operation.security = [];
        continue;
      }
      operation.security = schemeNames.map((name) => ({ [name]: [] }));
      const responses = (operation.responses ??= {});
      responses['401'] ??= { description: 'missing, invalid or expired token' };
      const requires = requirementsOf(security);
      if (requires === undefined) continue;
      responses['403'] ??= { description: 'a requirement is not met' };
      operation.description = [operation.description, requires].filter(Boolean).join('\n\n');
    }
    return document;
  }
}

/** The requirements of a route, in words for its description; `undefined` for none. */
function requirementsOf({ permissions, roles }: RouteSecurity): string | undefined {
  const lines = [
    ...(roles.includes('superadmin')
      ? ['Only for a superadmin.']
      : roles.includes('service admin')
        ? ['Only for an admin of this service (or a superadmin).']
        : []),
    ...(permissions.length > 0
      ? [`Permissions: ${permissions.map((name) => `\`${name}\``).join(', ')}.`]
      : []),
  ];
  return lines.length > 0 ? lines.join(' ') : undefined;
}
