import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

/** Longest authorization code sent upstream; real ones are far shorter. */
export const MAX_CODE_LENGTH = 512;

/** The `code` of `POST /auth/login/code`, checked for shape before it goes upstream. */
export class AuthorizationCodeDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_CODE_LENGTH)
  // RFC 6749 §A.11: a code is visible ASCII; this is stricter (URL-safe characters only).
  @Matches(/^[A-Za-z0-9._~+/=-]+$/, { message: 'code has characters a code cannot have' })
  code!: string;
}
