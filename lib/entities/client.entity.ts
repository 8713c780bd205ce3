/**
 * An OAuth client registered with the auth-service.
 *
 * Only its id: the wire format's `hashed_secret` is a credential hash and is
 * never carried by the library.
 */
export interface Client {
  clientId: string;
}
