import 'reflect-metadata';
import { ConsoleLogger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ShopModule } from './app.module.js';
import { serveShopDocs } from './docs.js';

/** Shows the auth module's own log lines (the permission sync) and warnings; not Nest's route listing. */
class ShopLogger extends ConsoleLogger {
  override log(message: unknown, context?: string): void {
    if (context === 'ApexAuth') super.log(message, context);
  }
}

/** Starts the shop on a loopback port (0: any free one), with Swagger UI at `/docs`. */
export async function startShop(port = 0): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(ShopModule, {
    logger: new ShopLogger('Shop', { logLevels: ['log', 'warn', 'error'] }),
  });
  serveShopDocs(app);
  await app.listen(port, '127.0.0.1');
  return {
    app,
    url: `http://127.0.0.1:${(app.getHttpServer() as { address(): { port: number } }).address().port}`,
  };
}
