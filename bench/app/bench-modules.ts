import { HttpModule, HttpService } from '@nestjs/axios';
import { Injectable, Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { AuthGuard, PassportModule } from '@nestjs/passport';
import { ApexAuthModule, PermissionField } from '@apex/nest-auth';
import { BENCH_SECRET, BENCH_SERVICE, type BenchAppConfig } from './bench-config.js';
import { BENCH_PUBLIC, BenchController } from './bench.controller.js';
import { PlainJwtStrategy } from './plain-passport.js';
import { SeedWayGuard } from './seed-way.guard.js';

/** The bench service's permissions. */
export class BenchPermissions {
  @PermissionField({ label: 'Read', default: false })
  canRead!: boolean;
}

/** `AuthGuard('jwt')` on every route but the public one. */
@Injectable()
class PlainJwtGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    if (this.reflector.get<boolean>(BENCH_PUBLIC, context.getHandler())) return true;
    return super.canActivate(context);
  }
}

/** The app's root module for one mode of the run. */
export function benchModule({ mode, authServiceUrl, redisUrl }: BenchAppConfig): DynamicModule {
  const imports: DynamicModule['imports'] = [];
  const providers: DynamicModule['providers'] = [];
  if (mode === 'seed') {
    imports.push(HttpModule);
    providers.push({
      provide: APP_GUARD,
      inject: [HttpService, Reflector],
      useFactory: (http: HttpService, reflector: Reflector) =>
        new SeedWayGuard(http, reflector, authServiceUrl),
    });
  } else if (mode === 'passport') {
    imports.push(PassportModule);
    providers.push(PlainJwtStrategy, { provide: APP_GUARD, useClass: PlainJwtGuard });
  } else {
    imports.push(
      ApexAuthModule.forRoot({
        baseUrl: authServiceUrl,
        serviceName: BENCH_SERVICE,
        permissions: BenchPermissions,
        syncPermissions: false,
        ...(mode.startsWith('local') ? { jwt: { secret: BENCH_SECRET } } : {}),
        ...(mode.endsWith('-full') ? { cache: { knownUsers: false } } : {}),
        ...(mode === 'remote-redis' ? { redis: redisUrl } : {}),
        // Every request of the run comes from one address: the per-address bounds are not what is measured.
        lookupLimit: false,
        login: { limits: false },
      }),
    );
  }
  @Module({ imports, providers, controllers: [BenchController] })
  class BenchAppModule {}
  return { module: BenchAppModule };
}
