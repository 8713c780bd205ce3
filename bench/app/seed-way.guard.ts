import { HttpService } from '@nestjs/axios';
import {
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { firstValueFrom } from 'rxjs';
import { BENCH_SERVICE } from './bench-config.js';
import { BENCH_PUBLIC } from './bench.controller.js';

/**
 * What the seed did (and apexauthlib does): on every request, ask the
 * auth-service who the token belongs to, then how this service sees that
 * user. Two calls through axios per request, nothing cached. The baseline of
 * the remote-mode target, not a way to write a guard.
 */
@Injectable()
export class SeedWayGuard implements CanActivate {
  constructor(
    private readonly http: HttpService,
    private readonly reflector: Reflector,
    private readonly baseUrl: string,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.get<boolean>(BENCH_PUBLIC, context.getHandler())) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    const authorization = request.headers.authorization;
    if (!authorization?.startsWith('Bearer ')) throw new UnauthorizedException();
    const headers = { Authorization: authorization };
    const get = async (path: string): Promise<{ id: string }> => {
      const answer = await firstValueFrom(
        this.http.get<{ id: string }>(`${this.baseUrl}${path}`, {
          headers,
          validateStatus: () => true,
        }),
      );
      if (answer.status === 401) throw new UnauthorizedException();
      if (answer.status !== 200 && answer.status !== 404) throw new ServiceUnavailableException();
      return answer.data;
    };
    const user = await get('/auth/user');
    await get(`/services/${BENCH_SERVICE}/users/${encodeURIComponent(user.id)}`);
    return true;
  }
}
