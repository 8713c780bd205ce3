import { requireServiceAdmin } from '../auth.js';
import type { EmulatorContext, EmulatorRequest } from '../context.js';
import { HttpError, validationError, type Reply } from '../http.js';
import { callerAndService } from './services.js';
import type { ServiceRecord } from '../service.js';
import { validatePermission, type PermissionInput } from '../validation.js';

const PERMISSION_EXISTS = 'Permission already exists';
const PERMISSION_NOT_FOUND = 'Permission not found';

/** Endpoint 8: adds a permission with a new id. Admins only; `422` bad body; `409` taken name. */
export function createPermission(context: EmulatorContext, request: EmulatorRequest): Reply {
  const service = administeredService(context, request);
  const input = permissionBody(request);
  if (service.hasPermissionNamed(input.name)) throw new HttpError(409, PERMISSION_EXISTS);
  const permission = context.state.createPermission(service, input);
  return { status: 201, body: { data: { permission } } };
}

/**
 * Endpoint 10 (optional): updates a permission in place, keeping its id and users' values.
 * Without the switch it answers 405, like a deployment that has no such route.
 */
export function updatePermission(context: EmulatorContext, request: EmulatorRequest): Reply {
  if (!context.options.permissionUpdate) {
    throw new HttpError(405, 'Method Not Allowed', { Allow: 'DELETE' });
  }
  const service = administeredService(context, request);
  const id = request.params.permissionId ?? '';
  if (!service.hasPermissionId(id)) throw new HttpError(404, PERMISSION_NOT_FOUND);
  const input = permissionBody(request);
  if (service.hasPermissionNamed(input.name, id)) throw new HttpError(409, PERMISSION_EXISTS);
  const permission = service.updatePermission(id, input);
  return { status: 200, body: { data: { permission } } };
}

/**
 * Endpoint 9: deletes a permission and its key from users' metadata. Admins only; `200`
 * with a JSON object, as the real service answers (its clients parse a body from every answer).
 */
export function deletePermission(context: EmulatorContext, request: EmulatorRequest): Reply {
  const service = administeredService(context, request);
  if (!service.deletePermission(request.params.permissionId ?? '')) {
    throw new HttpError(404, PERMISSION_NOT_FOUND);
  }
  return { status: 200, body: { data: {} } };
}

// Rights are checked before the body is looked at, so a malformed body from a
// non-admin is a 403, as with FastAPI dependencies that run before body validation.
function administeredService(context: EmulatorContext, request: EmulatorRequest): ServiceRecord {
  const { caller, service } = callerAndService(context, request);
  requireServiceAdmin(service, caller);
  return service;
}

function permissionBody(request: EmulatorRequest): PermissionInput {
  const result = validatePermission(request.json());
  if (!result.ok) throw validationError(result.issues);
  return result.value;
}
