import type { BearerCredential } from '../auth/bearer-token.js';
import { decodeJwtSegment } from '../verification/token-screen.js';

/** A GraphQL subscription's connection, as far as closing it goes. */
export interface SubscriptionConnection {
  /** Closes it, telling the client why where the transport can. */
  close(reason: string): void;
  /** Calls back once, when it has closed (whoever closed it). */
  onClosed(listener: () => void): void;
}

/** graphql-ws's close code for an unauthorized connection: its client does not retry it. */
export const UNAUTHORIZED_CLOSE_CODE = 4401;
/** The longest delay `setTimeout` takes; a later expiry is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const watched = new WeakSet<SubscriptionConnection>();

/**
 * Closes a connection when its token expires, so that a subscription, which
 * the guard checks once when it starts, delivers nothing past the token's
 * `exp`. Called once the guard accepted the token (whose `exp` the screen
 * checked); watching a connection again does nothing. The timer does not keep
 * the process alive, and goes when the connection closes.
 */
export function closeAtExpiry(
  connection: SubscriptionConnection,
  credential: BearerCredential,
  now: () => number = Date.now,
): void {
  if (watched.has(connection)) return;
  const exp = decodeJwtSegment(credential.token.split('.')[1] ?? '')?.['exp'];
  if (typeof exp !== 'number') return;
  watched.add(connection);
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = exp * 1000 - now();
    if (left <= 0) return connection.close('token expired');
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  connection.onClosed(() => clearTimeout(timer));
  arm();
}
