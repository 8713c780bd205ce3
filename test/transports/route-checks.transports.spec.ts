import { Controller, Logger, Module, UseGuards } from '@nestjs/common';
import * as graphql from '@nestjs/graphql';
import { Query, ResolveField, Resolver } from '@nestjs/graphql';
import { MessagePattern } from '@nestjs/microservices';
import * as websocketsInternal from '@nestjs/websockets/constants.js';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import * as microservicesInternal from '@nestjs/microservices/constants.js';
import { ApexAuthGuard, Permissions, Public, SuperAdmin } from '@apex/nest-auth';
import { describe, expect, it } from 'vitest';
import { apexAuthSettings } from '../../lib/module/apex-auth.settings.js';
import * as peerMetadata from '../../lib/transports/peer-metadata.js';
import { useShopEmulator } from '../fixtures/shop-suite.js';
import type { ShopPermissions } from '../fixtures/shop-permissions.js';
import { graphqlModule, Product } from './fixtures/graphql-shop.js';
import { rpcModule } from './fixtures/rpc-shop.js';

@Resolver(() => Product)
class GuardedFieldResolver {
  @Public()
  @Query(() => Product)
  item(): Product {
    return { name: 'pear' };
  }

  @Permissions<ShopPermissions>('canEdit')
  @ResolveField(() => String, { nullable: true })
  secret(): string {
    return 'secret';
  }
}

@Permissions<ShopPermissions>('canEdit')
@Resolver()
class ConflictingResolver {
  @Public()
  @Query(() => String)
  open(): string {
    return 'open';
  }
}

@Resolver()
class TypoResolver {
  @Permissions('canEditt')
  @Query(() => String)
  typo(): string {
    return 'typo';
  }
}

@Resolver()
class RequiringResolver {
  @Permissions<ShopPermissions>('canEdit')
  @Query(() => String)
  required(): string {
    return 'required';
  }
}

@UseGuards(ApexAuthGuard)
@Resolver()
class GuardedRequiringResolver {
  @Permissions<ShopPermissions>('canEdit')
  @Query(() => String)
  guardedRequired(): string {
    return 'required';
  }
}

@Public()
@WebSocketGateway()
class ConflictingGateway {
  @SuperAdmin()
  @Public()
  @SubscribeMessage('both')
  both(): string {
    return 'both';
  }
}

@Controller()
class RequiringRpcController {
  @Permissions<ShopPermissions>('canEdit')
  @MessagePattern('edit')
  edit(): string {
    return 'edited';
  }
}

describe('the startup checks cover resolvers, gateways and message handlers', () => {
  const start = useShopEmulator('express', {}, () => undefined);
  const module = (providers: unknown[]) => {
    @Module({ providers: providers as never[] })
    class Features {}
    return Features;
  };

  it("refuses a field resolver with a requirement without fieldResolverEnhancers: ['guards']", async () => {
    await expect(
      start(
        {},
        { features: [graphqlModule('apollo', [GuardedFieldResolver], { fieldGuards: false })] },
      ),
    ).rejects.toThrow(
      /GuardedFieldResolver\.secret: is a field resolver with a requirement, but Nest runs guards on field resolvers only with fieldResolverEnhancers: \['guards'\]/,
    );
    // With the field guards on, the same resolver starts.
    const app = await start({}, { features: [graphqlModule('apollo', [GuardedFieldResolver])] });
    expect(app.url).toMatch(/^http:/);
  });

  it('refuses a @Public() resolver contradicted by its class, and a permission the schema lacks', async () => {
    await expect(
      start({}, { features: [graphqlModule('apollo', [ConflictingResolver])] }),
    ).rejects.toThrow(
      /@Public\(\) on ConflictingResolver\.open: conflicts with @Permissions\(\) on ConflictingResolver/,
    );
    await expect(
      start({}, { features: [graphqlModule('apollo', [TypoResolver])] }),
    ).rejects.toThrow(/TypoResolver\.typo: .*canEditt/);
  });

  it('with globalGuard off, refuses a resolver with a requirement that no ApexAuthGuard guards', async () => {
    await expect(
      start({ globalGuard: false }, { features: [graphqlModule('apollo', [RequiringResolver])] }),
    ).rejects.toThrow(
      /RequiringResolver\.required: has a requirement .* but no ApexAuthGuard guards it/,
    );
    const app = await start(
      { globalGuard: false },
      { features: [graphqlModule('apollo', [GuardedRequiringResolver])] },
    );
    expect(app.url).toMatch(/^http:/);
  });

  it('refuses a @Public() gateway handler contradicted by a requirement at its level', async () => {
    await expect(start({}, { features: [module([ConflictingGateway])] })).rejects.toThrow(
      /@Public\(\) on ConflictingGateway\.both: conflicts with @SuperAdmin\(\) on ConflictingGateway\.both/,
    );
  });

  it('refuses a message handler with a requirement when rpcToken is not set', async () => {
    await expect(start({}, { features: [rpcModule([RequiringRpcController])] })).rejects.toThrow(
      /RequiringRpcController\.edit: is a message handler with a requirement, but the rpcToken option is not set/,
    );
    const app = await start(
      { rpcToken: () => undefined },
      { features: [rpcModule([RequiringRpcController])] },
    );
    expect(app.url).toMatch(/^http:/);
  });

  it('checks rpcToken and wsTokenQuery like every option, and keeps the function as given', () => {
    const context = {
      logger: new Logger('test'),
      jwksFetcher: () => () => Promise.reject(new Error('unused')),
    };
    const base = { baseUrl: 'http://auth:8000', serviceName: 'shop' };
    expect(() =>
      apexAuthSettings({ ...base, rpcToken: 'token', wsTokenQuery: '' }, context),
    ).toThrow(
      'rpcToken: must be a function (context) => string | undefined; wsTokenQuery: must be a non-empty string',
    );
    const rpcToken = () => undefined;
    const settings = apexAuthSettings({ ...base, rpcToken, wsTokenQuery: 'access_token' }, context);
    expect(settings.rpcToken).toBe(rpcToken);
    expect(settings.wsTokenQuery).toBe('access_token');
    const defaults = apexAuthSettings(base, context);
    expect([defaults.rpcToken, defaults.wsTokenQuery]).toEqual([undefined, undefined]);
  });
});

describe("the metadata keys the checks read are the packages' own", () => {
  it.each([
    ['PATTERN_METADATA', microservicesInternal.PATTERN_METADATA],
    ['GATEWAY_METADATA', websocketsInternal.GATEWAY_METADATA],
    ['MESSAGE_MAPPING_METADATA', websocketsInternal.MESSAGE_MAPPING_METADATA],
    ['RESOLVER_TYPE_METADATA', graphql.RESOLVER_TYPE_METADATA],
    ['RESOLVER_PROPERTY_METADATA', graphql.RESOLVER_PROPERTY_METADATA],
    ['GRAPHQL_MODULE_OPTIONS', graphql.GRAPHQL_MODULE_OPTIONS],
  ] as const)('%s', (name, value) => {
    expect(peerMetadata[name]).toBe(value);
  });
});
