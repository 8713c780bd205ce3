import type {
  ServiceMetadata,
  ServicePermission,
  ServicePermissionDefinition,
  ServiceUserInfo,
  User,
} from './auth-service.entities.js';
import { AuthServiceUnauthorizedError } from '../errors/index.js';
import { PermissionSchema } from '../permissions/index.js';
import type { AuthServiceCall, AuthServiceHttp } from './auth-service.http.js';
import {
  decodeMetadata,
  decodePermission,
  decodePermissions,
  decodeServiceUser,
  decodeServiceUsers,
  decodeUser,
  encodePermission,
  type MetadataMapper,
} from './auth-service.wire.js';
import { checkPathSegment } from './client-arguments.js';
import {
  checkSyncableSchema,
  planPermissionSync,
  type PermissionPlan,
  type PermissionPlanOptions,
} from './permission-plan.js';
import {
  syncPermissions,
  type PermissionSyncResult,
  type PermissionSyncSettings,
} from './permission-sync.js';

/** What an {@link AuthApiForToken} shares with the `AuthApi` that made it. */
export interface AuthApiContext<T extends object> {
  http: AuthServiceHttp;
  serviceName: string;
  metadata: MetadataMapper<T>;
  /** Told when the auth-service refuses the token, so that a cached one is not handed out again. */
  onUnauthorized?: (token: string) => void;
}

/**
 * The auth-service calls made with one bearer token, scoped to this service.
 * Get one from `AuthApi.forToken(token)` or `AuthApi.asAdmin()`.
 *
 * Every method throws the errors of `lib/errors`: `AuthServiceUnauthorizedError`
 * (the token was refused), `AuthServiceForbiddenError`, `AuthServiceNotFoundError`,
 * `AuthServiceConflictError`, `AuthServiceValidationError`,
 * `AuthServiceUnavailableError` and `AuthServicePayloadError`. Reads are retried
 * once when the auth-service is unavailable; writes never are.
 *
 * @typeParam T - the metadata type: the permissions class, or a plain record
 */
export class AuthApiForToken<T extends object = ServiceMetadata> {
  // A true private field: the token stays out of JSON.stringify, util.inspect and logs.
  readonly #token: string;
  readonly #context: AuthApiContext<T>;
  readonly #caller: string | undefined;

  /** @internal Made by `AuthApi`; the token has been checked there. */
  constructor(context: AuthApiContext<T>, token: string, caller?: string) {
    this.#context = context;
    this.#token = token;
    this.#caller = caller;
  }

  /** The token's owner (endpoint 3), without any password hash. */
  async user(): Promise<User> {
    return this.#call('user', 'GET', ['auth', 'user'], {
      read: (body) => decodeUser('user', body),
    });
  }

  /**
   * A user's metadata in this service (endpoint 4): an instance of the
   * permissions class with defaults filled in, or the plain record.
   */
  async metadataFor(userId: string): Promise<T> {
    const id = checkPathSegment(userId, 'metadataFor: userId');
    return this.#call('metadataFor', 'GET', this.#servicePath('metadata', id), {
      read: (body) => decodeMetadata('metadataFor', body, this.#context.metadata),
    });
  }

  /** A user as this service sees them (endpoint 5): who, whether a service admin, metadata. */
  async fullMetadataFor(userId: string): Promise<ServiceUserInfo<T>> {
    const id = checkPathSegment(userId, 'fullMetadataFor: userId');
    return this.#call('fullMetadataFor', 'GET', this.#servicePath('users', id), {
      read: (body) => decodeServiceUser('fullMetadataFor', body, this.#context.metadata),
    });
  }

  /** The users of this service (endpoint 6): those with metadata in it and its admins. */
  async usersForService(): Promise<ServiceUserInfo<T>[]> {
    return this.#call('usersForService', 'GET', this.#servicePath('users'), {
      read: (body) => decodeServiceUsers('usersForService', body, this.#context.metadata),
    });
  }

  /** The service's permission schema upstream (endpoint 7); ids always strings. */
  async permissions(): Promise<ServicePermission[]> {
    return this.#call('permissions', 'GET', this.#servicePath('permissions'), {
      read: (body) => decodePermissions('permissions', body),
    });
  }

  /** Adds a permission to the schema (endpoint 8). A taken name: `AuthServiceConflictError`. */
  async createPermission(definition: ServicePermissionDefinition): Promise<ServicePermission> {
    return this.#call('createPermission', 'POST', this.#servicePath('permissions'), {
      json: encodePermission(definition),
      read: (body) => decodePermission('createPermission', body),
    });
  }

  /**
   * Changes a permission in place, keeping users' stored values (endpoint 10,
   * optional: an auth-service without it answers `AuthServiceNotFoundError`
   * with status 405; an unknown id has status 404).
   */
  async updatePermission(
    id: string,
    definition: ServicePermissionDefinition,
  ): Promise<ServicePermission> {
    const permissionId = checkPathSegment(id, 'updatePermission: id');
    const path = this.#servicePath('permissions', permissionId);
    return this.#call('updatePermission', 'PUT', path, {
      json: encodePermission(definition),
      read: (body) => decodePermission('updatePermission', body),
    });
  }

  /**
   * Removes a permission (endpoint 9); the auth-service drops users' stored
   * values of it. Any 2xx answer will do, `200` with a JSON object as the
   * contract has it or `204` without a body: nothing in it is read.
   */
  async deletePermission(id: string): Promise<void> {
    const permissionId = checkPathSegment(id, 'deletePermission: id');
    await this.#call('deletePermission', 'DELETE', this.#servicePath('permissions', permissionId), {
      expect: 'nothing',
    });
  }

  /**
   * Brings the service's permission schema upstream in line with `schema`,
   * compared by name: creates what is missing, updates what differs (in
   * place when the auth-service can; else as `settings.onChanged` says:
   * `'keep'` by default), deletes what the schema lacks (unless
   * `settings.deleteRemoved` is `false`). Run it again and it writes nothing;
   * several replicas may run it at once.
   *
   * @throws ApexAuthOptionsError when `schema` is empty or invalid (nothing is written then)
   * @throws PermissionSyncError when a write fails: it says what was done and what was not
   */
  async updatePermissions(
    schema: readonly ServicePermissionDefinition[],
    settings: PermissionSyncSettings = {},
  ): Promise<PermissionSyncResult> {
    return syncPermissions(this, wantedSchema(schema), settings);
  }

  /**
   * What {@link AuthApiForToken.updatePermissions} would do now: the creates,
   * the updates with their differing fields (old and new values), the deletes,
   * the kept and the unchanged. Reads the schema upstream and writes nothing.
   *
   * @throws ApexAuthOptionsError when `schema` is empty or invalid (nothing is read then)
   */
  async planPermissions(
    schema: readonly ServicePermissionDefinition[],
    options: PermissionPlanOptions = {},
  ): Promise<PermissionPlan> {
    const wanted = wantedSchema(schema);
    return planPermissionSync(await this.permissions(), wanted, options);
  }

  #servicePath(...rest: string[]): string[] {
    return ['services', this.#context.serviceName, ...rest];
  }

  async #call<R>(
    operation: string,
    method: AuthServiceCall['method'],
    path: readonly string[],
    extra: Pick<AuthServiceCall<R>, 'json' | 'expect' | 'read'> = {},
  ): Promise<R> {
    try {
      return await this.#context.http.call({
        operation,
        method,
        path,
        bearer: this.#token,
        caller: this.#caller,
        ...extra,
      });
    } catch (error) {
      if (error instanceof AuthServiceUnauthorizedError)
        this.#context.onUnauthorized?.(this.#token);
      throw error;
    }
  }
}

/** Checked before the first request, so that a bad schema never leaves a half-synced one. */
function wantedSchema(
  schema: readonly ServicePermissionDefinition[],
): readonly ServicePermissionDefinition[] {
  const wanted = PermissionSchema.from(schema, 'schema').definitions;
  checkSyncableSchema(wanted, 'schema');
  return wanted;
}
