import type { AuthApi, AuthApiForToken } from '../client/index.js';
import type { ServiceMetadata, User } from '../client/auth-service.entities.js';
import {
  AuthServiceForbiddenError,
  AuthServiceNotFoundError,
  AuthServicePayloadError,
  AuthServiceUnauthorizedError,
} from '../errors/index.js';
import type { PermissionSchema } from '../permissions/index.js';
import { AuthenticationFailure } from './authentication-failure.js';

/**
 * The caller of a guarded route, as `request.user` and `@CurrentUser()` hold it:
 * the auth-service user (no password hash), whether they administer this
 * service, and their metadata in it.
 *
 * @typeParam T - the permissions class; `metadata` is an instance of it with
 *   defaults filled in for permissions the user has no value for.
 */
export interface AuthenticatedUser<T extends object = ServiceMetadata> extends User {
  /** Admin of this service (superadmins are not implied: check `isAdmin` too, or use `@ServiceAdmin()`). */
  isServiceAdmin: boolean;
  metadata: T;
}

/** How this service sees a user: what the auth-service's record of them in it says. */
export type ServiceView<T extends object> = Pick<
  AuthenticatedUser<T>,
  'isServiceAdmin' | 'metadata'
>;

/**
 * Asks the auth-service who a token belongs to: the user (endpoint 3), then
 * that user as this service sees them (endpoint 5). The user's identity and id
 * always come from there, never from the token's claims.
 */
export class UserLookup<T extends object = object> {
  constructor(
    private readonly authApi: AuthApi<T>,
    private readonly schema: PermissionSchema<T> | undefined,
  ) {}

  /**
   * @param client - the caller's grouped address, to which failures are attributed
   * @param known - a user of that id validated lately, if any: their record in
   *   this service is reused rather than asked for again (the identity is always the auth-service's answer)
   * @throws AuthenticationFailure when the auth-service refuses the token
   * @throws AuthServiceError (unavailable, invalid payload) when it cannot say
   */
  async lookUp(
    token: string,
    client: string | undefined,
    known?: (userId: string) => Promise<AuthenticatedUser<T> | undefined>,
  ): Promise<AuthenticatedUser<T>> {
    try {
      const upstream = this.authApi.forToken(token, { caller: client });
      const user = await upstream.user();
      const reused = await known?.(user.id);
      const view = reused?.id === user.id ? reused : await this.serviceView(upstream, user);
      return authenticatedUser(user, view);
    } catch (error) {
      if (
        error instanceof AuthServiceUnauthorizedError ||
        error instanceof AuthServiceForbiddenError
      ) {
        throw new AuthenticationFailure('invalid token', 'refused by the auth-service');
      }
      throw error;
    }
  }

  private async serviceView(upstream: AuthApiForToken<T>, user: User): Promise<ServiceView<T>> {
    const info = await upstream.fullMetadataFor(user.id).catch((error: unknown) => {
      // Not a user of this service (yet): they have the schema's defaults.
      if (error instanceof AuthServiceNotFoundError) return undefined;
      throw error;
    });
    if (info !== undefined && info.user.id !== user.id) {
      // Another user's record must never become this user's metadata.
      throw new AuthServicePayloadError(
        'fullMetadataFor',
        'data.user.user.id',
        'is not the id of the token owner',
      );
    }
    return {
      isServiceAdmin: info?.isServiceAdmin ?? false,
      metadata: info?.metadata ?? this.schema?.readMetadata({}) ?? ({} as T),
    };
  }
}

/**
 * A user's identity fields, and nothing else: an explicit allow-list, so that
 * whatever else an object carries stays out of a cache (in process or shared).
 */
export function identityOf(user: User): User {
  return {
    id: user.id,
    username: user.username,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    phoneNumber: user.phoneNumber,
    isAdmin: user.isAdmin,
  };
}

/** A user as the module caches them: identity and service view, frozen (one object serves many requests). */
export function authenticatedUser<T extends object>(
  user: User,
  view: ServiceView<T>,
): AuthenticatedUser<T> {
  return Object.freeze({
    ...identityOf(user),
    isServiceAdmin: view.isServiceAdmin,
    metadata: Object.freeze(view.metadata),
  });
}
