import type { EmulatorEndpoint } from './options.js';

// A record, not an array, so that the compiler insists on every endpoint being listed.
const ENDPOINT_FLAGS: Record<EmulatorEndpoint, true> = {
  login: true,
  refresh: true,
  oauthToken: true,
  user: true,
  metadata: true,
  serviceUser: true,
  serviceUsers: true,
  permissions: true,
  createPermission: true,
  updatePermission: true,
  deletePermission: true,
  jwks: true,
};

/** Every endpoint the emulator counts and can fault. */
export const ENDPOINTS = Object.keys(ENDPOINT_FLAGS) as EmulatorEndpoint[];

/** Whether `value` names an endpoint. */
export function isEndpoint(value: unknown): value is EmulatorEndpoint {
  return typeof value === 'string' && Object.hasOwn(ENDPOINT_FLAGS, value);
}

interface Route {
  /** Literal segments, or `:name` for a parameter. */
  readonly segments: readonly string[];
  readonly methods: Readonly<Record<string, EmulatorEndpoint>>;
}

// `refresh` shares the login route; the form decides (see classifyLogin).
// PUT stays routed when updates are switched off, so that the switch can answer 405
// while the request is still counted and faultable like any other.
const ROUTES: readonly Route[] = [
  { segments: ['auth', 'login'], methods: { POST: 'login' } },
  { segments: ['auth', 'oauth', 'token'], methods: { POST: 'oauthToken' } },
  { segments: ['auth', 'user'], methods: { GET: 'user' } },
  { segments: ['services', ':service', 'metadata', ':userId'], methods: { GET: 'metadata' } },
  { segments: ['services', ':service', 'users', ':userId'], methods: { GET: 'serviceUser' } },
  { segments: ['services', ':service', 'users'], methods: { GET: 'serviceUsers' } },
  {
    segments: ['services', ':service', 'permissions'],
    methods: { GET: 'permissions', POST: 'createPermission' },
  },
  {
    segments: ['services', ':service', 'permissions', ':permissionId'],
    methods: { PUT: 'updatePermission', DELETE: 'deletePermission' },
  },
  { segments: ['.well-known', 'jwks.json'], methods: { GET: 'jwks' } },
];

/** Where a request lands: an endpoint with its decoded path parameters, or nowhere. */
export type RouteMatch =
  | {
      readonly kind: 'endpoint';
      readonly endpoint: EmulatorEndpoint;
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'methodNotAllowed'; readonly allow: readonly string[] }
  | { readonly kind: 'notFound' };

/** Matches a request line against the contract's routes; the query string is ignored. */
export function matchRoute(method: string, url: string): RouteMatch {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  if (!path.startsWith('/')) return { kind: 'notFound' };
  const segments = path.slice(1).split('/').map(decodeSegment);
  for (const route of ROUTES) {
    const params = matchSegments(route.segments, segments);
    if (params === undefined) continue;
    const endpoint = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    return endpoint === undefined
      ? { kind: 'methodNotAllowed', allow: Object.keys(route.methods) }
      : { kind: 'endpoint', endpoint, params };
  }
  return { kind: 'notFound' };
}

/**
 * `POST /auth/login` serves two endpoints; a form asking for `grant_type=refresh_token`
 * is the refresh endpoint even when refresh tokens are off (it is then refused there).
 */
export function classifyLogin(form: URLSearchParams | undefined): EmulatorEndpoint {
  return form?.get('grant_type') === 'refresh_token' ? 'refresh' : 'login';
}

function matchSegments(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, expected] of pattern.entries()) {
    const actual = segments[index] ?? '';
    if (expected.startsWith(':')) params[expected.slice(1)] = actual;
    else if (expected !== actual) return undefined;
  }
  return params;
}

// Starlette decodes leniently: a malformed escape stays as written instead of failing.
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
