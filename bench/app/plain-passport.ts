import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { BENCH_SECRET } from './bench-config.js';

/**
 * What most Nest apps do: `passport-jwt` with the secret as a string, the
 * payload as the user, every request verified, nothing asked upstream.
 */
@Injectable()
export class PlainJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: BENCH_SECRET,
      algorithms: ['HS256'],
    });
  }

  validate(payload: object): object {
    return payload;
  }
}
