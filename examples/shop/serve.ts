/**
 * `npm run shop`: the example shop on its own, on port 3000 (or PORT), configured from
 * the environment as in production (AUTH_SERVICE_URL, SHOP_ADMIN_USERNAME,
 * SHOP_ADMIN_PASSWORD), for instance against `npx apex-auth emulator` (see the README's
 * quick start). Ctrl-C stops it.
 */
import { startShop } from './main.js';

const shop = await startShop(Number(process.env.PORT ?? 3000));
console.log(
  `shop service on ${shop.url}, against the auth-service at ${process.env.AUTH_SERVICE_URL}`,
);

const stop = (): void => void shop.app.close();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
