import type { Handler } from '../context.js';
import type { EmulatorEndpoint } from '../options.js';
import { currentUser, jwks, login, oauthToken, refresh } from './auth.js';
import { createPermission, deletePermission, updatePermission } from './permissions.js';
import { metadata, permissions, serviceUser, serviceUsers } from './services.js';

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
