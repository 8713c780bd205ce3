export { AuthorizationCodeDto } from './authorization-code.dto.js';
export { AuthController } from './auth.controller.js';
export { LoginDto } from './login.dto.js';
export type { TokenResponse } from './token-response.js';
