import type { Strategy } from 'passport';
import type { AuthenticatedUser } from './authenticated-user.js';

/** How a Passport strategy ended for one request. */
export type StrategyOutcome =
  | { user: AuthenticatedUser<object> }
  | { failure: unknown } // strategy.fail(info): the credentials were not good
  | { error: unknown }; // strategy.error(err): it could not decide

/**
 * Runs a Passport strategy for one request, the way `passport.authenticate`
 * does (a per-request object whose prototype is the strategy, given
 * `success`/`fail`/`error`), without Passport's session and `req.logIn`
 * machinery and without registering the strategy under a global name, so two
 * apps in one process never share one.
 */
export function runStrategy(strategy: Strategy, request: object): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as Strategy & {
      success(user: unknown): void;
      fail(info?: unknown): void;
      error(error: unknown): void;
      pass(): void;
      redirect(): void;
    };
    attempt.success = (user) => resolve({ user: user as AuthenticatedUser<object> });
    attempt.fail = (info) => resolve({ failure: info });
    attempt.error = (error) => resolve({ error });
    attempt.pass = () => resolve({ failure: undefined });
    attempt.redirect = () => resolve({ failure: undefined });
    try {
      (attempt.authenticate as (request: object, options: object) => void).call(
        attempt,
        request,
        {},
      );
    } catch (error) {
      resolve({ error });
    }
  });
}
