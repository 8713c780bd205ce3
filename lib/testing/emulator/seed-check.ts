import type { EmulatorPermissionSeed, EmulatorSeed } from './options.js';
import { validatePermissionSeed } from './validation.js';

/** One thing wrong in a seed document: where (`users[1].password`) and what. */
export interface SeedIssue {
  /** The path of the wrong field from the document's root; `''` for the root itself. */
  readonly path: string;
  /** What is wrong; never quotes a value but a username or a name. */
  readonly message: string;
}

/** A seed document that is no {@link EmulatorSeed}; the message lists every issue by path. */
export class EmulatorSeedError extends Error {
  override readonly name = 'EmulatorSeedError';
  /** Every issue found, in document order. */
  readonly issues: readonly SeedIssue[];

  constructor(issues: readonly SeedIssue[]) {
    super(issues.map(({ path, message }) => (path ? `${path}: ${message}` : message)).join('; '));
    this.issues = issues;
  }
}

type Fields = Record<string, unknown>;

const USER_FIELDS = [
  'id',
  'username',
  'password',
  'firstName',
  'lastName',
  'email',
  'phoneNumber',
  'isAdmin',
];
const SERVICE_FIELDS = ['name', 'admins', 'permissions', 'metadata'];
const PERMISSION_FIELDS = ['id', 'name', 'label', 'description', 'type', 'values', 'default'];
const CLIENT_FIELDS = ['clientId', 'clientSecret'];

/**
 * Checks a parsed JSON document (a seed file) against the shape of
 * `AuthServiceEmulator.start({ seed })`, with the checks the emulator makes when it
 * seeds (required and unique names, permissions valid as a `POST` body, admins and
 * metadata naming seeded users) and unknown fields refused, so that a typo fails with
 * its path instead of being ignored.
 *
 * @throws EmulatorSeedError listing every issue, each with the path of its field
 */
export function checkEmulatorSeed(document: unknown): EmulatorSeed {
  const check = new SeedCheck();
  const root = check.object(document, '', ['users', 'services', 'clients']);
  if (root !== undefined) {
    const users = check.list(root, 'users', '');
    users.forEach((user, index) => check.user(user, `users[${index}]`));
    const services = check.list(root, 'services', '');
    services.forEach((service, index) => check.service(service, `services[${index}]`));
    const clients = check.list(root, 'clients', '');
    clients.forEach((client, index) => check.client(client, `clients[${index}]`));
  }
  if (check.issues.length > 0) throw new EmulatorSeedError(check.issues);
  // Every field was checked, and none is unknown: the document is the seed.
  return document as EmulatorSeed;
}

/** The checks, collecting issues; each unique value (a username) remembers whose it is. */
class SeedCheck {
  readonly issues: SeedIssue[] = [];
  private readonly usernames = new Map<string, string>();
  private readonly userIds = new Map<string, string>();
  private readonly serviceNames = new Map<string, string>();
  private readonly clientIds = new Map<string, string>();

  user(value: unknown, path: string): void {
    const user = this.object(value, path, USER_FIELDS);
    if (user === undefined) return;
    this.unique(this.usernames, this.text(user, 'username', path, true), path, 'username');
    this.text(user, 'password', path, true);
    this.unique(this.userIds, this.text(user, 'id', path, false), path, 'id');
    for (const field of ['firstName', 'lastName', 'email', 'phoneNumber']) {
      this.string(user, field, path);
    }
    if (user.isAdmin !== undefined && typeof user.isAdmin !== 'boolean') {
      this.issue(`${path}.isAdmin`, 'must be true or false');
    }
  }

  service(value: unknown, path: string): void {
    const service = this.object(value, path, SERVICE_FIELDS);
    if (service === undefined) return;
    this.unique(this.serviceNames, this.text(service, 'name', path, true), path, 'name');
    this.list(service, 'admins', path).forEach((admin, index) =>
      this.userReference(admin, `${path}.admins[${index}]`),
    );
    const names = new Map<string, string>();
    const ids = new Map<string, string>();
    this.list(service, 'permissions', path).forEach((permission, index) =>
      this.permission(permission, `${path}.permissions[${index}]`, names, ids),
    );
    if (service.metadata === undefined) return;
    const metadata = this.object(service.metadata, `${path}.metadata`, undefined);
    for (const [user, values] of Object.entries(metadata ?? {})) {
      const at = field(`${path}.metadata`, user);
      this.userReference(user, at);
      this.object(values, at, undefined);
    }
  }

  client(value: unknown, path: string): void {
    const client = this.object(value, path, CLIENT_FIELDS);
    if (client === undefined) return;
    this.unique(this.clientIds, this.text(client, 'clientId', path, true), path, 'clientId');
    this.text(client, 'clientSecret', path, true);
  }

  /** `value` when it is a JSON object with no field outside `allowed` (any field: `undefined`). */
  object(value: unknown, path: string, allowed: readonly string[] | undefined): Fields | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.issue(path, path === '' ? 'a seed must be a JSON object' : 'must be an object');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (allowed !== undefined && !allowed.includes(key)) {
        this.issue(field(path, key), `unknown field (known: ${allowed.join(', ')})`);
      }
    }
    return value as Fields;
  }

  /** The array at `fields[key]`: `[]` when absent (or not an array, which is an issue). */
  list(fields: Fields, key: string, path: string): unknown[] {
    const value = fields[key];
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.issue(field(path, key), 'must be an array');
    return [];
  }

  private permission(
    value: unknown,
    path: string,
    names: Map<string, string>,
    ids: Map<string, string>,
  ): void {
    const permission = this.object(value, path, PERMISSION_FIELDS);
    if (permission === undefined) return;
    this.unique(ids, this.text(permission, 'id', path, false), path, 'id');
    this.string(permission, 'label', path);
    this.string(permission, 'description', path);
    // Its remaining fields are what validatePermissionSeed checks.
    const result = validatePermissionSeed(permission as unknown as EmulatorPermissionSeed);
    if (result.ok) {
      this.unique(names, result.value.name, path, 'name');
      return;
    }
    for (const { loc, msg } of result.issues) {
      // The label and description were checked above, with this file's wording.
      if (loc[1] === 'label' || loc[1] === 'description') continue;
      this.issue(
        loc.slice(1).reduce<string>((at, key) => field(at, key), path),
        msg,
      );
    }
  }

  private userReference(value: unknown, path: string): void {
    if (typeof value !== 'string') {
      this.issue(path, 'must be a username or a user id');
    } else if (!this.usernames.has(value) && !this.userIds.has(value)) {
      this.issue(path, `no user ${JSON.stringify(value)} in users (by username or id)`);
    }
  }

  /** A string field (`required`: present); non-empty when present. */
  private text(fields: Fields, key: string, path: string, required: boolean): string | undefined {
    const value = fields[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && value !== '') return value;
    this.issue(field(path, key), 'must be a non-empty string');
    return undefined;
  }

  /** An optional string field, which may be empty. */
  private string(fields: Fields, key: string, path: string): void {
    if (fields[key] !== undefined && typeof fields[key] !== 'string') {
      this.issue(field(path, key), 'must be a string');
    }
  }

  /** `owner.key` must not repeat the value of an earlier owner's `key` (remembered in `taken`). */
  private unique(
    taken: Map<string, string>,
    value: string | undefined,
    owner: string,
    key: string,
  ): void {
    if (value === undefined) return;
    const first = taken.get(value);
    if (first === undefined) taken.set(value, owner);
    else this.issue(field(owner, key), `${JSON.stringify(value)} is already ${first}'s`);
  }

  private issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }
}

/** `path.key`, or `path["odd key"]` for a key that is no identifier, or `path[0]` for an index. */
function field(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}
