import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ApexAuthModule } from '@apex/nest-auth';
import { AdminController } from './admin.controller.js';
import { ProductsController } from './products.controller.js';
import { ShopPermissions } from './shop-permissions.js';

/** The shop service: its configuration comes from the environment, as in production. */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    ApexAuthModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        baseUrl: config.getOrThrow<string>('AUTH_SERVICE_URL'),
        serviceName: 'shop',
        permissions: ShopPermissions,
        admin: {
          username: config.getOrThrow<string>('SHOP_ADMIN_USERNAME'),
          password: config.getOrThrow<string>('SHOP_ADMIN_PASSWORD'),
        },
        // Replicas share state through Redis when REDIS_URL is set; otherwise all stays in process.
        redis: config.get<string>('REDIS_URL'),
      }),
    }),
  ],
  controllers: [ProductsController, AdminController],
})
export class ShopModule {}
