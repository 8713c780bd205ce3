import { APEX_AUTH_ROLES } from '../apex-auth.constants.js';
import { appendMetadata } from './append-metadata.js';

/** The admin roles a route can require. */
export type AdminRole = 'service-admin' | 'superadmin';

/**
 * The caller must administer this service, or be a superadmin; otherwise `403`.
 * On a handler or a controller; it adds to every other requirement of the route.
 */
export const ServiceAdmin = (): MethodDecorator & ClassDecorator =>
  appendMetadata(APEX_AUTH_ROLES, ['service-admin' satisfies AdminRole]);

/**
 * The caller must be a superadmin (`isAdmin`); otherwise `403`.
 * On a handler or a controller; it adds to every other requirement of the route.
 */
export const SuperAdmin = (): MethodDecorator & ClassDecorator =>
  appendMetadata(APEX_AUTH_ROLES, ['superadmin' satisfies AdminRole]);
