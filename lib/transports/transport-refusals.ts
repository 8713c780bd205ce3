import type { Transport } from './transport-caller.js';

type Translate = (error: unknown) => unknown;

// Each transport's error class comes from its own optional package, loaded the
// first time a call over that transport is refused: a context of that type
// means the app runs that package, and an app without it never loads it.
const LOADERS: Readonly<Record<Transport, () => Promise<Translate>>> = {
  graphql: async () => (await import('../graphql/graphql-refusal.js')).toGraphQLError,
  ws: async () => (await import('../websockets/ws-refusal.js')).toWsException,
  rpc: async () => (await import('../microservices/rpc-refusal.js')).toRpcException,
};

const loaded = new Map<Transport, Promise<Translate>>();

/**
 * Rejects with `error` in the transport's terms: a GraphQL error, a
 * `WsException` or an `RpcException` for a refusal of the module; any other
 * error as it is. Should the transport's package fail to load, the error is
 * thrown as it is: still a refusal, never access.
 */
export async function refuseOver(transport: Transport, error: unknown): Promise<never> {
  let translate = loaded.get(transport);
  if (translate === undefined) {
    translate = LOADERS[transport]();
    loaded.set(transport, translate);
  }
  let translated: unknown;
  try {
    translated = (await translate)(error);
  } catch {
    translated = error;
  }
  throw translated;
}
