/** How far back the slowest answered login counts. */
const LEARNING_WINDOW_MS = 15 * 60_000;
const BUCKET_MS = 60_000;

/**
 * How long a refused login must take, so that its timing does not tell an
 * unknown username from a wrong password. An auth-service usually answers an
 * unknown user at once and hashes for a known one: a fixed floor below its
 * hashing time hides nothing. So every refusal waits, from its arrival, for
 * the longest time the auth-service took to answer a login in the last 15
 * minutes (successes included, which are known users), never less than the
 * floor and never more than the cap.
 *
 * What that guarantees: once one login of a known user was answered within
 * the window, refusals are as slow as it was. The first attempt after a quiet
 * window can still stand out, and an auth-service slower than the cap can
 * still be timed.
 */
export class RefusalDelay {
  /** Per minute, the slowest answer; oldest first. */
  private readonly buckets: { minute: number; slowestMs: number }[] = [];

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records how long a login took until the auth-service answered it (any answer but a failure). */
  observe(elapsedMs: number): void {
    const minute = Math.floor(this.now() / BUCKET_MS);
    const last = this.buckets.at(-1);
    if (last?.minute === minute) last.slowestMs = Math.max(last.slowestMs, elapsedMs);
    else this.buckets.push({ minute, slowestMs: elapsedMs });
    this.forgetOld(minute);
  }

  /** How long after its arrival a refusal may be answered, in ms. */
  get boundMs(): number {
    this.forgetOld(Math.floor(this.now() / BUCKET_MS));
    const learned = this.buckets.reduce(
      (slowest, bucket) => Math.max(slowest, bucket.slowestMs),
      0,
    );
    return Math.min(this.maxMs, Math.max(this.minMs, Math.ceil(learned)));
  }

  private forgetOld(minute: number): void {
    const oldest = minute - LEARNING_WINDOW_MS / BUCKET_MS;
    while (this.buckets.length > 0 && this.buckets[0].minute <= oldest) this.buckets.shift();
  }
}
