import type { IncomingHttpHeaders } from 'node:http';

import type { ResolvedEmulatorOptions } from './config.js';
import type { Reply } from './http.js';
import type { IssuedTokens, EmulatorTokens } from './tokens.js';
import type { EmulatorEndpoint } from './options.js';
import type { EmulatorState } from './state.js';

/**
 * What every handler works with: the options, the store, the signer of one emulator and
 * the record of the tokens it issued.
 */
export interface EmulatorContext {
  readonly options: ResolvedEmulatorOptions;
  readonly state: EmulatorState;
  readonly tokens: EmulatorTokens;
  readonly issued: IssuedTokens;
}

/** A routed request whose body has been read. */
export interface EmulatorRequest {
  readonly endpoint: EmulatorEndpoint;
  /** Decoded path parameters (`service`, `userId`, `permissionId`). */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The parsed body when it is a urlencoded form. */
  readonly form: URLSearchParams | undefined;
  /** Parses the body as JSON, or throws a `422`. */
  readonly json: () => unknown;
}

/** An endpoint's handler: answers a reply or throws an `HttpError`. */
export type Handler = (context: EmulatorContext, request: EmulatorRequest) => Reply;
