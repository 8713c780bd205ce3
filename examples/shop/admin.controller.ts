import { Controller, Get } from '@nestjs/common';
import { AuthApi, AuthToken, ServiceAdmin } from '@apex/nest-auth';
import { ShopPermissions } from './shop-permissions.js';

/** For the shop's admins: who uses the shop, with what permissions. */
@ServiceAdmin()
@Controller('admin')
export class AdminController {
  constructor(private readonly authApi: AuthApi<ShopPermissions>) {}

  @Get('users')
  async users(@AuthToken() token: string) {
    const users = await this.authApi.forToken(token).usersForService();
    return users.map(({ user, isServiceAdmin, metadata }) => ({
      username: user.username,
      isServiceAdmin,
      canEditProducts: metadata.canEditProducts,
      region: metadata.region,
    }));
  }
}
