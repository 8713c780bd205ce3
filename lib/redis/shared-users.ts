import { randomUUID } from 'node:crypto';
import type { PermissionSchema } from '../permissions/index.js';
import { AuthenticationFailure } from '../verification/authentication-failure.js';
import type { User } from '../client/auth-service.entities.js';
import {
  authenticatedUser,
  identityOf,
  type AuthenticatedUser,
} from '../verification/user-lookup.js';
import type { SharedRedis } from './shared-redis.js';

/** How often a replica waiting for another one's lookup looks for its result. */
const POLL_INTERVAL_MS = 20;

/** A user as another replica validated it, and until when it may be served without asking. */
export interface SharedUser<T extends object> {
  user: AuthenticatedUser<T>;
  freshUntil: number;
}

/** What a shared entry holds: the allow-listed user fields, never a token or a password hash. */
interface StoredUser {
  user: User;
  isServiceAdmin: boolean;
  metadata: Record<string, string | number | boolean>;
  freshUntil: number;
}

/** Releases a lookup's lock only if it is still this lookup's (it may have expired and been taken). */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Validated users and refused tokens shared by the replicas, in Redis, by the
 * hash of the token (never the token), and known users by the hash of their
 * subject or id. The in-process cache stays in front:
 * this is asked only on a miss, and a token validated on one replica is served
 * by the others without a lookup. Concurrent first uses of one token on
 * several replicas share one lookup: the first takes a short lock, the others
 * wait for its result, for as long as the lock lives at most; if its holder
 * dies, they look it up themselves. Redis failing makes every method a no-op:
 * each replica then looks up by itself.
 */
export class SharedUsers<T extends object> {
  constructor(
    private readonly redis: SharedRedis,
    private readonly schema: PermissionSchema<T> | undefined,
    private readonly limits: {
      /** How long one lookup may hold its lock (the lookup's own time budget, and a margin). */
      lockMs: number;
      /** How long a refusal is remembered for the others (as long as each replica remembers its own). */
      refusedMs: number;
    },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The user of a token, from another replica's lookup or from `lookUp`: a
   * result is written before it is returned, so that it is shared before the
   * response goes out.
   *
   * @throws AuthenticationFailure when the token is refused (here or by another replica)
   */
  async lookUp(key: string, lookUp: () => Promise<SharedUser<T>>): Promise<SharedUser<T>> {
    const known = await this.read(key);
    if (known !== undefined) return known;
    const lock = this.redis.key('lookup', key);
    const nonce = randomUUID();
    const taken = await this.redis.run((client) =>
      client.set(lock, nonce, 'PX', this.limits.lockMs, 'NX'),
    );
    if (taken === null) {
      // Another replica is looking it up.
      const theirs = await this.awaitResult(key, lock);
      if (theirs !== undefined) return theirs;
    }
    try {
      const result = await lookUp();
      await this.write('user', key, result.user, result.freshUntil);
      return result;
    } catch (error) {
      if (error instanceof AuthenticationFailure) await this.refuse(key);
      throw error;
    } finally {
      if (taken === 'OK') {
        await this.redis.run((client) => client.eval(RELEASE_LOCK, 1, lock, nonce));
      }
    }
  }

  /** Forgets hashes (a token's, its known user's) in Redis, and tells every replica to forget them too. */
  async forget(keys: readonly string[]): Promise<void> {
    const stored = keys.flatMap((key) =>
      ['user', 'refused', 'known'].map((kind) => this.redis.key(kind, key)),
    );
    await this.redis.run((client) => client.del(...stored));
    await Promise.all(keys.map((key) => this.redis.publish(this.redis.key('forget'), key)));
  }

  /** Another replica's known user under this key (a hash), if any and fresh. */
  async known(key: string): Promise<SharedUser<T> | undefined> {
    const text = await this.redis.run((client) => client.get(this.redis.key('known', key)));
    return typeof text === 'string' ? this.parse(text) : undefined;
  }

  /** Marks a token (by its hash) as refused by the auth-service, until `until`: no known user lets it in. */
  async markRefused(key: string, until: number): Promise<void> {
    const ttl = until - this.now();
    if (ttl <= 0) return;
    await this.redis.run((client) =>
      client.set(this.redis.key('refused-token', key), '1', 'PX', ttl),
    );
  }

  /** Whether a replica marked the token (by its hash) as refused; `false` when Redis cannot say. */
  async isMarkedRefused(key: string): Promise<boolean> {
    const found = await this.redis.run((client) =>
      client.get(this.redis.key('refused-token', key)),
    );
    return typeof found === 'string';
  }

  /** Shares a known user, until its `freshUntil`. */
  async rememberKnown(key: string, { user, freshUntil }: SharedUser<T>): Promise<void> {
    await this.write('known', key, user, freshUntil);
  }

  /** Calls `evict` with each hash another replica (or this one) forgot. */
  async onForgotten(evict: (key: string) => void): Promise<void> {
    await this.redis.subscribe(this.redis.key('forget'), (key) => {
      // A SHA-256 in base64url, or nothing this module published.
      if (/^[A-Za-z0-9_-]{43}$/.test(key)) evict(key);
    });
  }

  private async refuse(key: string): Promise<void> {
    await this.redis.run((client) =>
      client.set(this.redis.key('refused', key), '1', 'PX', this.limits.refusedMs),
    );
  }

  private async write(
    kind: 'user' | 'known',
    key: string,
    user: AuthenticatedUser<T>,
    freshUntil: number,
  ): Promise<void> {
    const ttl = freshUntil - this.now();
    if (ttl <= 0) return;
    const stored: StoredUser = {
      user: identityOf(user),
      isServiceAdmin: user.isServiceAdmin,
      metadata: primitivesOf(user.metadata),
      freshUntil,
    };
    await this.redis.run((client) =>
      client.set(this.redis.key(kind, key), JSON.stringify(stored), 'PX', ttl),
    );
  }

  /** A shared result: the user, a refusal (thrown), or nothing yet. */
  private async read(key: string): Promise<SharedUser<T> | undefined> {
    const [user, refused] =
      (await this.redis.run((client) =>
        client.mget(this.redis.key('user', key), this.redis.key('refused', key)),
      )) ?? [];
    if (refused !== null && refused !== undefined) {
      throw new AuthenticationFailure('invalid token', 'refused recently (another replica)');
    }
    return user === null || user === undefined ? undefined : this.parse(user);
  }

  private async awaitResult(key: string, lock: string): Promise<SharedUser<T> | undefined> {
    const until = this.now() + this.limits.lockMs;
    while (this.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      const found = await this.read(key);
      if (found !== undefined) return found;
      const holder = await this.redis.run((client) => client.exists(lock));
      // Released since the read: its result, if it had one, is there now.
      if (holder === 0) return this.read(key);
      // Redis cannot say: look it up here.
      if (holder !== 1) return undefined;
    }
    return undefined;
  }

  private parse(text: string): SharedUser<T> | undefined {
    let stored: StoredUser;
    try {
      stored = JSON.parse(text) as StoredUser;
    } catch {
      return undefined;
    }
    const user = stored?.user;
    const fields = [
      user?.id,
      user?.username,
      user?.firstName,
      user?.lastName,
      user?.email,
      user?.phoneNumber,
    ];
    // What does not look as this module writes it is not trusted: a miss, looked up anew.
    if (!fields.every((field) => typeof field === 'string') || !(stored.freshUntil > this.now())) {
      return undefined;
    }
    const raw = primitivesOf(typeof stored.metadata === 'object' ? (stored.metadata ?? {}) : {});
    const metadata = this.schema?.readMetadata(raw) ?? raw;
    return {
      user: authenticatedUser(
        { ...user, isAdmin: user.isAdmin === true },
        { isServiceAdmin: stored.isServiceAdmin === true, metadata: metadata as T },
      ),
      freshUntil: stored.freshUntil,
    };
  }
}

/** The metadata's own values of permission types: nothing else is written to Redis. */
function primitivesOf(metadata: object): Record<string, string | number | boolean> {
  const kept: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      kept[name] = value;
    }
  }
  return kept;
}
