import { Controller, Get, Module, UseGuards, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  ApexAuthGuard,
  ApexAuthOptionsError,
  Permissions,
  Public,
  ServiceAdmin,
  SuperAdmin,
} from '@apex/nest-auth';
import type { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { describe, expect, it } from 'vitest';
import { call, show } from '../fixtures/http.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import type { ShopPermissions } from '../fixtures/shop-permissions.js';
import { PLATFORMS, type RunningApp } from '../fixtures/start-app.js';
import { ShopGuard } from './fixtures/composition.controllers.js';

/** A feature module of one controller. */
function featureOf(...controllers: Type[]): Type {
  @Module({ controllers })
  class Feature {}
  return Feature;
}

@Controller('same-handler')
class PublicAndRequiredHandler {
  @Public()
  @Permissions<ShopPermissions>('canEdit')
  @Get()
  get() {
    return {};
  }
}

@Public()
@ServiceAdmin()
@Controller('same-class')
class PublicAndRequiredClass {
  @Get()
  get() {
    return {};
  }
}

@SuperAdmin()
@Controller('narrower-public')
class PublicInsideRequired {
  @Public()
  @Get('ping')
  ping() {
    return {};
  }
}

@Permissions<ShopPermissions>('canEdit')
class RequiringBase {}

@Public()
@Controller('public-subclass')
class PublicSubclass extends RequiringBase {
  @Get()
  get() {
    return {};
  }
}

@Controller('unguarded')
class UnguardedRequirement {
  @Get('open')
  open() {
    return {};
  }

  @ServiceAdmin()
  @Get('admin')
  admin() {
    return {};
  }
}

@SuperAdmin()
@Controller('unguarded-class')
class UnguardedClassRequirement {
  @Get()
  get() {
    return {};
  }
}

@Controller('unguarded-inherited')
class UnguardedInherited extends RequiringBase {
  @Get()
  get() {
    return {};
  }
}

@UseGuards(ApexAuthGuard)
@Controller('guarded')
class GuardedController {
  @Permissions<ShopPermissions>('canEdit')
  @Get()
  get() {
    return { ok: true };
  }
}

@Controller('guarded-by-subclass')
class GuardedBySubclass {
  @UseGuards(ShopGuard)
  @SuperAdmin()
  @Get()
  get() {
    return { ok: true };
  }
}

@Controller('unknown-on-class')
@Permissions<ShopPermissions>('canFly')
class UnknownOnClass {
  @Get()
  get() {
    return {};
  }
}

@Permissions<ShopPermissions>({ region: 'mars' })
class UnknownValueBase {}

@Controller('unknown-inherited')
class UnknownInherited extends UnknownValueBase {
  @Get()
  get() {
    return {};
  }
}

describe.each(PLATFORMS)('route checks at startup on %s', (platform) => {
  let emulator: AuthServiceEmulator;
  const startShopApp = useShopEmulator(platform, {}, (started) => (emulator = started));
  const start = (features: Type[], extras: { globalGuard?: boolean } = {}): Promise<RunningApp> =>
    startShopApp({ syncPermissions: false, ...extras }, { features });

  it.each([
    [
      '@Public() and a requirement on the same handler',
      PublicAndRequiredHandler,
      '@Public() on PublicAndRequiredHandler.get: conflicts with @Permissions() on PublicAndRequiredHandler.get',
    ],
    [
      '@Public() and a requirement on the same class',
      PublicAndRequiredClass,
      '@Public() on PublicAndRequiredClass: conflicts with @ServiceAdmin() on PublicAndRequiredClass',
    ],
    [
      '@Public() on a handler of a controller that requires a role',
      PublicInsideRequired,
      '@Public() on PublicInsideRequired.ping: conflicts with @SuperAdmin() on PublicInsideRequired',
    ],
    [
      '@Public() on a subclass of a base class that requires a permission',
      PublicSubclass,
      '@Public() on PublicSubclass: conflicts with @Permissions() on RequiringBase',
    ],
  ])('refuses %s, naming the route', async (_what, controller, message) => {
    const starting = start([featureOf(controller)]);
    await expect(starting).rejects.toBeInstanceOf(ApexAuthOptionsError);
    await expect(starting).rejects.toThrow(message);
  });

  it.each([
    ['a handler', UnguardedRequirement, 'UnguardedRequirement.admin'],
    ['a class', UnguardedClassRequirement, 'UnguardedClassRequirement.get'],
    ['a base class', UnguardedInherited, 'UnguardedInherited.get'],
  ])(
    'with globalGuard: false, refuses a requirement on %s that no ApexAuthGuard guards',
    async (_what, controller, route) => {
      const starting = start([featureOf(controller)], { globalGuard: false });
      await expect(starting).rejects.toThrow(
        `${route}: has a requirement (@Permissions(), @ServiceAdmin() or @SuperAdmin()) but no ApexAuthGuard guards it`,
      );
    },
  );

  it('with globalGuard: false, starts when the guard (or a subclass) guards every route with a requirement', async () => {
    const app = await start([featureOf(GuardedController, GuardedBySubclass)], {
      globalGuard: false,
    });
    const guarded = await call(`${app.url}/guarded`);
    expect(guarded.status, show(guarded)).toBe(401);
    const bySubclass = await call(`${app.url}/guarded-by-subclass`, {
      token: emulator.issueToken('admin'),
    });
    expect(bySubclass.status, show(bySubclass)).toBe(403);
    const root = await call(`${app.url}/guarded-by-subclass`, {
      token: emulator.issueToken('root'),
    });
    expect(root.status, show(root)).toBe(200);
  });

  it('with globalGuard: false, starts when the app registered the guard globally itself', async () => {
    @Module({
      controllers: [UnguardedRequirement],
      providers: [{ provide: APP_GUARD, useExisting: ApexAuthGuard }],
    })
    class GloballyGuarded {}
    const app = await start([GloballyGuarded], { globalGuard: false });
    const answer = await call(`${app.url}/unguarded/admin`, {
      token: emulator.issueToken('viewer'),
    });
    expect(answer.status, show(answer)).toBe(403);
  });

  it.each([
    [
      'on a class',
      UnknownOnClass,
      '@Permissions() on UnknownOnClass: "canFly" is not a permission of the schema',
    ],
    [
      'on a base class',
      UnknownInherited,
      '@Permissions() on UnknownValueBase: "mars" is not a value permission "region" can take',
    ],
  ])('checks requirement names and values %s too', async (_what, controller, message) => {
    await expect(start([featureOf(controller)])).rejects.toThrow(message);
  });
});
