import type { PermissionSyncResult } from '../client/permission-sync.js';

/**
 * A permission sync stopped after some of its writes. Running it again
 * converges from where it stopped (it compares the schema upstream anew).
 * The message says why, what was done and what was not; like every error of
 * this library it never holds a token, password or upstream body.
 */
export class PermissionSyncError extends Error {
  /**
   * @param done - what the sync wrote before it stopped
   * @param notDone - the planned steps it did not complete, the failed one first (`create region`)
   */
  constructor(
    message: string,
    readonly done: PermissionSyncResult,
    readonly notDone: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermissionSyncError';
  }
}
