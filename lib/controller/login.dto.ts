import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * The body of `POST /auth/login`: JSON, or the OAuth2 password form that
 * Swagger's "Authorize" dialog sends (`grant_type`, `scope`, `client_id` and
 * `client_secret` are accepted and ignored).
 */
export class LoginDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  username!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;

  @IsOptional()
  @IsIn(['password'])
  grant_type?: string;
}
