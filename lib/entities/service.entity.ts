/** A service registered with the auth-service (wire: `{ service, admins }`). */
export interface Service {
  /** The service name, the `service` path segment of the contract. */
  name: string;
  /** Ids of the users who administer this service. */
  admins: string[];
}
