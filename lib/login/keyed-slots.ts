/** Gives a slot back. Calling it more than once is harmless. */
export type ReleaseSlot = () => void;

/**
 * Bounds how many calls per key (a username, a client address) run at once:
 * past the limit a call waits its turn, first come first served, instead of
 * being refused, so that many honest users behind one address are only
 * delayed; once `maxWaiting` are waiting, further ones are refused
 * (`undefined`), so that waiting cannot pile up without end.
 */
export class KeyedSlots {
  private readonly keys = new Map<string, { active: number; waiting: (() => void)[] }>();

  /**
   * Takes a slot of `key`. Reserved before the first await, so that calls
   * made in the same tick see each other.
   *
   * @param maxWaiting - how many may wait for a slot (default: as many as may run)
   * @returns the release, once a slot is free; `undefined` when the queue is full
   */
  acquire(key: string, limit: number, maxWaiting = limit): Promise<ReleaseSlot | undefined> {
    let slots = this.keys.get(key);
    if (slots === undefined) {
      slots = { active: 0, waiting: [] };
      this.keys.set(key, slots);
    }
    const held = slots;
    if (held.active < limit) {
      held.active++;
      return Promise.resolve(this.releaser(key, held));
    }
    if (held.waiting.length >= maxWaiting) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      // A released slot passes straight to the next in line: `active` stays as it is.
      held.waiting.push(() => resolve(this.releaser(key, held)));
    });
  }

  private releaser(key: string, slots: { active: number; waiting: (() => void)[] }): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slots.waiting.shift();
      if (next !== undefined) return next();
      slots.active--;
      if (slots.active === 0) this.keys.delete(key);
    };
  }
}
