import { authenticate, requireServiceAdmin } from '../auth.js';
import type { EmulatorContext, EmulatorRequest } from '../context.js';
import { HttpError, type Reply } from '../http.js';
import type { WireUser } from '../options.js';
import type { ServiceRecord } from '../service.js';

/** The authenticated caller and the service named in the path; `401`, then `404`. */
export function callerAndService(
  context: EmulatorContext,
  request: EmulatorRequest,
): { caller: WireUser; service: ServiceRecord } {
  const caller = authenticate(context, request.headers);
  const service = context.state.findService(request.params.service ?? '');
  if (service === undefined) throw new HttpError(404, 'Service not found');
  return { caller, service };
}

/** Endpoint 4: a user's stored metadata (`{}` when none). The user, a service admin or a superadmin. */
export function metadata(context: EmulatorContext, request: EmulatorRequest): Reply {
  const { service, user } = readableUser(context, request);
  return {
    status: 200,
    body: { data: { metadata: { user_id: user.id, metadata: service.metadataOf(user.id) ?? {} } } },
  };
}

/** Endpoint 5: one user of the service. The user, a service admin or a superadmin. */
export function serviceUser(context: EmulatorContext, request: EmulatorRequest): Reply {
  const { service, user } = readableUser(context, request);
  return { status: 200, body: { data: { user: serviceUserInfo(service, user) } } };
}

/** Endpoint 6: the service's admins and users with metadata, by username. Admins only. */
export function serviceUsers(context: EmulatorContext, request: EmulatorRequest): Reply {
  const { caller, service } = callerAndService(context, request);
  requireServiceAdmin(service, caller);
  const users = [...service.memberIds()]
    .map((id) => context.state.userById(id))
    .filter((user): user is WireUser => user !== undefined)
    .sort((a, b) => compareCodePoints(a.username, b.username))
    .map((user) => serviceUserInfo(service, user));
  return { status: 200, body: { data: { users } } };
}

/** Endpoint 7: the permission schema, in creation order. Any authenticated user. */
export function permissions(context: EmulatorContext, request: EmulatorRequest): Reply {
  const { service } = callerAndService(context, request);
  return { status: 200, body: { data: { permissions: service.permissions() } } };
}

// Order of refusals as FastAPI dependencies produce them: token, service, rights, user.
function readableUser(
  context: EmulatorContext,
  request: EmulatorRequest,
): { service: ServiceRecord; user: WireUser } {
  const { caller, service } = callerAndService(context, request);
  const userId = request.params.userId ?? '';
  if (caller.id !== userId) requireServiceAdmin(service, caller);
  const user = context.state.userById(userId);
  if (user === undefined) throw new HttpError(404, 'User not found');
  return { service, user };
}

function serviceUserInfo(service: ServiceRecord, user: WireUser): Record<string, unknown> {
  return {
    user,
    is_service_admin: service.isAdmin(user.id),
    metadata: service.metadataOf(user.id) ?? {},
  };
}

// Python sorts strings by code point; localeCompare would not match the real service.
function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
