/**
 * A configuration value of the module (or of the client) is invalid. Thrown at
 * startup, with a message that starts with the option's path, e.g.
 * `baseUrl: "auth" is not an absolute http(s) URL`.
 */
export class ApexAuthOptionsError extends Error {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`${option}: ${problem}`);
    this.name = 'ApexAuthOptionsError';
  }
}
