import { ApexAuthOptionsError } from '../errors/index.js';
import { assertObjectOption, checkNumberOption } from '../errors/option-checks.js';
import type {
  ApexAuthModuleOptions,
  ResolvedApexAuthOptions,
} from '../module/apex-auth.options.js';
import type { FailedLoginLimit } from './login-limits.options.js';

const FIFTEEN_MINUTES = 15 * 60_000;
const DEFAULT_LOGIN_LIMITS = {
  perUsername: { maxFailures: 5, windowMs: FIFTEEN_MINUTES, blockMs: FIFTEEN_MINUTES },
  perIp: { maxFailures: 20, windowMs: FIFTEEN_MINUTES, blockMs: FIFTEEN_MINUTES },
};
const DEFAULT_MIN_FAILURE_MS = 250;
const DEFAULT_MAX_FAILURE_MS = 2_000;
/** Past this, a floor would be a denial of service of its own. */
const MAX_FAILURE_DELAY_MS = 5_000;

/**
 * Checks the `login` option and applies its defaults.
 *
 * @throws ApexAuthOptionsError naming the faulty option
 */
export function resolveLoginOptions(
  login: ApexAuthModuleOptions['login'],
): ResolvedApexAuthOptions['login'] {
  if (login !== undefined) assertObjectOption(login, 'login');
  const {
    limits = {},
    minFailureMs = DEFAULT_MIN_FAILURE_MS,
    maxFailureMs = Math.max(DEFAULT_MAX_FAILURE_MS, minFailureMs),
  } = login ?? {};
  const delays = { min: 0, max: MAX_FAILURE_DELAY_MS, unit: 'milliseconds' };
  checkNumberOption(minFailureMs, 'login.minFailureMs', delays);
  checkNumberOption(maxFailureMs, 'login.maxFailureMs', delays);
  if (maxFailureMs < minFailureMs) {
    throw new ApexAuthOptionsError('login.maxFailureMs', 'must be at least login.minFailureMs');
  }
  if (limits === false) return { limits: false, minFailureMs, maxFailureMs };
  assertObjectOption(limits, 'login.limits', 'false or { perUsername, perIp, storage }');
  const storage = limits.storage;
  if (
    storage !== undefined &&
    typeof (storage as { increment?: unknown }).increment !== 'function'
  ) {
    throw new ApexAuthOptionsError(
      'login.limits.storage',
      'must be a @nestjs/throttler ThrottlerStorage',
    );
  }
  return {
    limits: {
      perUsername: resolveLimit(
        limits.perUsername,
        DEFAULT_LOGIN_LIMITS.perUsername,
        'login.limits.perUsername',
      ),
      perIp: resolveLimit(limits.perIp, DEFAULT_LOGIN_LIMITS.perIp, 'login.limits.perIp'),
      storage,
    },
    minFailureMs,
    maxFailureMs,
  };
}

function resolveLimit(
  limit: FailedLoginLimit | false | undefined,
  defaults: FailedLoginLimit,
  option: string,
): FailedLoginLimit | false {
  if (limit === false) return false;
  if (limit === undefined) return defaults;
  assertObjectOption(limit, option, 'false or { maxFailures, windowMs, blockMs }');
  const resolved = { ...defaults, ...limit };
  checkNumberOption(resolved.maxFailures, `${option}.maxFailures`, { min: 1, integer: true });
  for (const key of ['windowMs', 'blockMs'] as const) {
    checkNumberOption(resolved[key], `${option}.${key}`, {
      min: 0,
      aboveMin: true,
      unit: 'milliseconds',
    });
  }
  return resolved;
}
