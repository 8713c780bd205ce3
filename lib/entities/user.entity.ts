/**
 * A user of the auth-service, as this library hands it out.
 *
 * The wire format's `hashed_password` is never copied into it: the mapping from
 * the upstream payload is an allow-list of these fields.
 */
export interface User {
  /** The user's id (a uuid). */
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string;
  /** A superadmin: admin of every service. */
  isAdmin: boolean;
}
