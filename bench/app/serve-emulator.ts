/**
 * The bench's auth-service: the emulator in a process of its own, so that its
 * work is not the app's nor the load generator's. Sends its URL over IPC,
 * answers `counts` with its request counters (then resets them), and stops
 * when the parent goes.
 */
import { AuthServiceEmulator } from '@apex/nest-auth/testing';
import { BENCH_SECRET, BENCH_SERVICE, BENCH_USER } from './bench-config.js';

const emulator = await AuthServiceEmulator.start({
  signing: { algorithm: 'HS256', secret: BENCH_SECRET },
  seed: {
    users: [{ ...BENCH_USER, firstName: 'Rita', email: 'rita@bench.test' }],
    services: [{ name: BENCH_SERVICE, metadata: { [BENCH_USER.username]: { canRead: true } } }],
  },
});
process.send?.({ type: 'listening', url: emulator.url });
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'counts') return;
  const counts = emulator.requestCounts();
  emulator.resetCounters();
  process.send?.({ type: 'counts', counts });
});
process.on('disconnect', () => void emulator.stop().finally(() => process.exit(0)));
