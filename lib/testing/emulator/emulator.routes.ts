import type { Handler } from './emulator.context.js';
import type { EmulatorEndpoint } from './emulator.options.js';
import { currentUser, jwks, login, oauthToken, refresh } from './emulator.routes.auth.js';
import {
  createPermission,
  deletePermission,
  updatePermission,
} from './emulator.routes.permissions.js';
import { metadata, permissions, serviceUser, serviceUsers } from './emulator.routes.services.js';

/** The handler of every endpoint; a record so that none can be forgotten. */
export const HANDLERS: Readonly<Record<EmulatorEndpoint, Handler>> = {
  login,
  refresh,
  oauthToken,
  user: currentUser,
  metadata,
  serviceUser,
  serviceUsers,
  permissions,
  createPermission,
  updatePermission,
  deletePermission,
  jwks,
};
