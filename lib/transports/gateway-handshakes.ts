import { Inject, Injectable, Logger, type WebSocketAdapter } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { bearerTokenOf } from '../auth/bearer-token.js';
import { addressOf } from '../auth/http-request.js';
import { APEX_AUTH_SETTINGS, type ApexAuthSettings } from '../module/apex-auth.settings.js';
import { AuthenticationFailure } from '../verification/authentication-failure.js';
import { TokenVerifier } from '../verification/token-verifier.js';
import { refusalOf, type Refusal } from './refusal.js';
import { isObject, type TransportCaller } from './transport-caller.js';
import { connectionCaller } from './ws-caller.js';

type Connected = (client: unknown, ...rest: unknown[]) => void;
type Middleware = (socket: object, next: (error?: Error) => void) => void;

/** A client the handshake refused: its close code is 4000 + the HTTP status (`4401`, `4503`, …). */
export const closeCodeOf = (refusal: Refusal): number => 4000 + refusal.status;

const HOOKED = Symbol('apex-auth:handshakes');

/**
 * Verifies WebSocket clients when they connect, on the app's WebSocket adapter
 * as it is (socket.io's `IoAdapter`, `ws`'s `WsAdapter`, or another): Nest has
 * no hook for connections, so the adapter's `bindClientConnect`, which every
 * gateway's server goes through before any client is let in, is wrapped on the
 * adapter the app sets (or Nest's default one).
 *
 * A client without a token connects, for the gateway's `@Public()` messages; a
 * client whose token is malformed, refused, or cannot be checked (the
 * auth-service failing) is refused at the handshake with the reason: socket.io
 * answers `connect_error` (the reason as its message, `data.code`), a `ws`
 * client is closed at once with code 4000 + the status and the reason, before
 * the gateway sees it. Every message is then checked by `ApexAuthGuard`
 * against the same token.
 */
@Injectable()
export class GatewayHandshakes {
  private readonly logger = new Logger('ApexAuth');
  private readonly guarded = new WeakSet<object>();

  constructor(
    config: ApplicationConfig,
    private readonly verifier: TokenVerifier,
    @Inject(APEX_AUTH_SETTINGS) private readonly settings: ApexAuthSettings,
  ) {
    // The adapter is set after the module is made (app.useWebSocketAdapter), or by Nest
    // once gateways connect; either way through setIoAdapter, and before any server binds.
    const setIoAdapter = config.setIoAdapter.bind(config);
    config.setIoAdapter = (adapter: WebSocketAdapter) => setIoAdapter(this.hook(adapter));
    const current = config.getIoAdapter() as WebSocketAdapter | undefined;
    if (current !== undefined && current !== null) this.hook(current);
  }

  private hook(adapter: WebSocketAdapter): WebSocketAdapter {
    const hooked = adapter as WebSocketAdapter & { [HOOKED]?: true };
    if (hooked[HOOKED] === true) return adapter;
    hooked[HOOKED] = true;
    const bind = adapter.bindClientConnect.bind(adapter) as (server: unknown, c: Connected) => void;
    adapter.bindClientConnect = (server: unknown, callback: Connected) => {
      // socket.io refuses at the handshake itself, with its middleware.
      if (isObject(server) && typeof server.use === 'function') {
        this.guardSocketIo(server as { use(middleware: Middleware): unknown });
        return bind(server, callback);
      }
      return bind(server, (client, ...rest) =>
        this.accept(client, rest[0], () => callback(client, ...rest)),
      );
    };
    return adapter;
  }

  private guardSocketIo(server: { use(middleware: Middleware): unknown }): void {
    // Gateways that share a server share its middleware: once is enough.
    if (this.guarded.has(server)) return;
    this.guarded.add(server);
    server.use((socket, next) => {
      void Promise.resolve(
        this.verify(connectionCaller(socket, undefined, this.settings.wsTokenQuery)),
      ).then((refusal) => next(refusal === undefined ? undefined : handshakeError(refusal)));
    });
  }

  /** A connection of a server that hands over the upgrade request with it (the `ws` package). */
  private accept(client: unknown, upgrade: unknown, connect: () => void): void {
    const caller = isObject(client)
      ? connectionCaller(client, upgrade as IncomingMessage | undefined, this.settings.wsTokenQuery)
      : undefined;
    const verdict = this.verify(caller);
    if (verdict === undefined) return connect();
    const socket = client as {
      close?(code: number, reason: string): void;
      pause?(): void;
      resume?(): void;
    };
    if (!(verdict instanceof Promise)) return socket.close?.(closeCodeOf(verdict), verdict.message);
    // Its messages wait in the socket until the token is judged; a refused client never reaches the gateway.
    socket.pause?.();
    void verdict.then((refusal) => {
      if (refusal === undefined) connect();
      // Resumed to close too: the closing handshake needs the client's answer read.
      socket.resume?.();
      if (refusal !== undefined) socket.close?.(closeCodeOf(refusal), refusal.message);
    });
  }

  /**
   * The handshake's verdict: `undefined` to let the client in (no token, or a
   * good one), else the refusal. Synchronous when it needs no lookup.
   */
  private verify(
    caller: TransportCaller | undefined,
  ): Refusal | undefined | Promise<Refusal | undefined> {
    // A client the module cannot read connects; the guard denies its messages.
    if (caller === undefined) return undefined;
    const bearer = bearerTokenOf(caller);
    if (!('credential' in bearer)) {
      return bearer.problem === 'missing'
        ? undefined
        : refusalOf(new AuthenticationFailure('invalid token'));
    }
    const cached = this.verifier.cached(bearer.credential);
    if (cached !== undefined) {
      caller.user = cached;
      return undefined;
    }
    return this.verifier.verify(bearer.credential, { clientAddress: addressOf(caller) }).then(
      (user) => {
        caller.user = user;
        return undefined;
      },
      (error: unknown) => refusalOf(error) ?? this.failed(error),
    );
  }

  /** A bug, not a verdict: the client is refused, and operators told (by name: no message). */
  private failed(error: unknown): Refusal {
    const kind = error instanceof Error ? error.name : typeof error;
    this.logger.error(`Verifying a WebSocket handshake failed (${kind}); the client is refused`);
    return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'internal error' };
  }
}

/** socket.io's handshake refusal: the client's `connect_error` has the message, and `data.code`. */
function handshakeError(refusal: Refusal): Error {
  const error = new Error(refusal.message) as Error & { data?: unknown };
  error.data = {
    code: refusal.code,
    ...(refusal.retryAfterSeconds === undefined ? {} : { retryAfter: refusal.retryAfterSeconds }),
  };
  return error;
}
