/** How far back successful logins count, and how many are kept. */
const LEARNING_WINDOW_MS = 15 * 60_000;
const MAX_SAMPLES = 256;
/** Below this many, what was seen says too little: refusals wait the cap. */
const MIN_SAMPLES = 5;

/**
 * How long a refused login must take, so that its timing does not tell an
 * unknown username from a wrong password. An auth-service usually answers an
 * unknown user at once and hashes for a known one: a fixed floor below its
 * hashing time hides nothing. So every refusal waits, from its arrival, as
 * long as nine in ten successful logins of the last 15 minutes took (a
 * success is a known user: it costs what a wrong password costs), never less
 * than the floor and never more than the cap; until five successes were seen,
 * it waits the cap.
 *
 * Refusals teach it nothing, so a caller can neither talk it down with fast
 * unknown names nor talk it up with a burst of slow ones. What it assumes: the
 * auth-service spends as long on a wrong password as on a right one; one
 * slower than the cap can still be timed.
 */
export class RefusalDelay {
  /** Successful logins: when, and how long they took; oldest first. */
  private readonly successes: { at: number; elapsedMs: number }[] = [];

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records how long a successful login took, from its arrival. */
  observeSuccess(elapsedMs: number): void {
    this.successes.push({ at: this.now(), elapsedMs });
    if (this.successes.length > MAX_SAMPLES) this.successes.shift();
  }

  /** How long after its arrival a refusal may be answered, in ms. */
  get boundMs(): number {
    const oldest = this.now() - LEARNING_WINDOW_MS;
    while (this.successes.length > 0 && this.successes[0].at <= oldest) this.successes.shift();
    if (this.successes.length < MIN_SAMPLES) return this.maxMs;
    const sorted = this.successes.map((sample) => sample.elapsedMs).sort((a, b) => a - b);
    const typical = sorted[Math.floor(0.9 * (sorted.length - 1))];
    return Math.min(this.maxMs, Math.max(this.minMs, Math.ceil(typical)));
  }
}
