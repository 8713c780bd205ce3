import { SetMetadata } from '@nestjs/common';
import { APEX_AUTH_ROLES } from '../apex-auth.constants.js';

/** The admin roles a route can require. */
export type AdminRole = 'service-admin' | 'superadmin';

/** The caller must administer this service, or be a superadmin; otherwise `403`. */
export const ServiceAdmin = (): MethodDecorator & ClassDecorator =>
  SetMetadata(APEX_AUTH_ROLES, 'service-admin' satisfies AdminRole);

/** The caller must be a superadmin (`isAdmin`); otherwise `403`. */
export const SuperAdmin = (): MethodDecorator & ClassDecorator =>
  SetMetadata(APEX_AUTH_ROLES, 'superadmin' satisfies AdminRole);
