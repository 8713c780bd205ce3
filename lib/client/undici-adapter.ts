import axios, {
  AxiosError,
  AxiosHeaders,
  getAdapter,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { Agent, type Dispatcher } from 'undici';

/**
 * Settings of the application's axios instance that only axios's own http
 * adapter honours (its agents: a private CA, client certificates; an explicit
 * proxy; a socket path; its DNS lookup). A call that carries one goes through
 * that adapter, exactly as it would without this module.
 */
const HTTP_ADAPTER_SETTINGS = [
  'httpAgent',
  'httpsAgent',
  'proxy',
  'socketPath',
  'lookup',
  'family',
  'transport',
  'insecureHTTPParser',
  'httpVersion',
  'http2Options',
] as const;

/**
 * The proxy variables axios's http adapter reads (proxy-from-env), on every
 * call. With one set, the call goes through that adapter, so that `NO_PROXY`
 * (CIDR ranges, loopback aliases), `ALL_PROXY` and values without a scheme
 * keep axios's meaning: this module does not re-implement them.
 */
export const PROXY_VARIABLES = [
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
] as const;

/** Headers undici refuses outright (it frames the message itself), which axios would send. */
const FRAMING_HEADERS = ['keep-alive', 'transfer-encoding', 'upgrade', 'connection', 'expect'];

/** undici's error codes for a wait that ran out (its own timers, not our deadline). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * An axios adapter that sends over undici, on a keep-alive pool, for the
 * calls to the auth-service.
 *
 * Why: the guard's cold path is one call per new token, and axios's http
 * adapter (follow-redirects, stream pipelines, proxy lookup per call) cost
 * about 60 µs of CPU a call more than undici does (the benchmark's remote
 * rows). Axios itself still runs: the application's interceptors see every
 * request and answer.
 *
 * Either way (undici, or axios's http adapter when the instance has agents
 * or a proxy of its own, or a proxy variable is set), the application's
 * `params` and `auth` are not sent: the auth-service gets the module's URL
 * and credentials only. On undici: no redirect followed (its `request`
 * follows none), the response size bound, the abort signal (the caller's
 * deadline), an uncompressed answer asked for (a compressed one anyway
 * reaches the caller as a body that is not text), axios's `User-Agent`.
 * `validateStatus` is not applied: the module's calls accept every status
 * and read it themselves.
 *
 * @param maxResponseBytes - a longer answer fails the call
 */
export function undiciAdapter(maxResponseBytes: number): AxiosAdapter {
  const dispatcher = new Agent({ maxResponseSize: maxResponseBytes });
  const httpAdapter = getAdapter('http');
  return (config) => {
    const own = { ...config, params: undefined, auth: undefined };
    return HTTP_ADAPTER_SETTINGS.some((setting) => config[setting] !== undefined) ||
      PROXY_VARIABLES.some((name) => process.env[name])
      ? httpAdapter(own)
      : send(dispatcher, own);
  };
}

async function send(
  dispatcher: Dispatcher,
  config: InternalAxiosRequestConfig,
): Promise<AxiosResponse<string | undefined>> {
  const url = new URL(config.url!);
  // On the AxiosHeaders, case-insensitively: an app's `accept-encoding` must not go out beside ours.
  config.headers.set('Accept-Encoding', 'identity');
  config.headers.set('User-Agent', `axios/${axios.VERSION}`, false);
  config.headers.delete(FRAMING_HEADERS);
  const headers = config.headers.toJSON(true);
  let answer: Dispatcher.ResponseData;
  let data: string | undefined;
  try {
    answer = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: config.method!.toUpperCase(),
      headers,
      body: config.data as string | undefined,
      signal: config.signal,
    });
    const encoding = answer.headers['content-encoding'];
    if (encoding === undefined || String(encoding).toLowerCase() === 'identity') {
      data = await answer.body.text();
    } else {
      await answer.body.dump();
    }
  } catch (error) {
    throw failure(error, config);
  }
  return {
    data,
    status: answer.statusCode,
    statusText: '',
    headers: AxiosHeaders.from(answer.headers as Record<string, string>),
    config,
  };
}

/**
 * The failure as the http adapter would report it: an `AxiosError` whose
 * code tells a timeout from a connection failure. Only the code is kept of
 * undici's error, whose message may quote the request.
 */
function failure(error: unknown, config: InternalAxiosRequestConfig): AxiosError {
  const code = (error as { code?: unknown } | null)?.code;
  const timedOut = typeof code === 'string' && TIMEOUT_CODES.has(code);
  return new AxiosError(
    timedOut ? 'auth-service call timed out' : 'auth-service call failed',
    timedOut ? AxiosError.ETIMEDOUT : typeof code === 'string' ? code : AxiosError.ERR_NETWORK,
    config,
  );
}
