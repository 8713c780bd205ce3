import { Body, Controller, Get, Post } from '@nestjs/common';
import { CurrentUser, Permissions, Public, type AuthenticatedUser } from '@apex/nest-auth';
import { ShopPermissions } from './shop-permissions.js';

@Controller('products')
export class ProductsController {
  private readonly products = ['coffee', 'tea'];

  /** Anyone may browse. */
  @Public()
  @Get('catalog')
  catalog() {
    return { products: this.products };
  }

  /** Any signed-in user. */
  @Get()
  list(@CurrentUser() user: AuthenticatedUser<ShopPermissions>) {
    return { products: this.products, region: user.metadata.region };
  }

  /** Editors only. */
  @Permissions<ShopPermissions>('canEditProducts')
  @Post()
  create(@Body() body: { name?: string }, @CurrentUser('username') username: string) {
    this.products.push(body.name ?? 'unnamed');
    return { created: body.name ?? 'unnamed', by: username };
  }
}
