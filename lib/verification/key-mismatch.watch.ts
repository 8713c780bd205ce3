import { Logger, type LoggerService } from '@nestjs/common';

/** Tokens whose signature was checked that it takes to tell a wrong key from bad luck. */
export const KEY_MISMATCH_SAMPLE = 20;

/**
 * Tells operators when the configured key is probably not the auth-service's:
 * if every one of the first {@link KEY_MISMATCH_SAMPLE} tokens whose signature
 * was checked since startup failed that check, every request of the service
 * is answering `401`, and one `warn` line says why.
 */
export class KeyMismatchWatch {
  private checked = 0;
  private failed = 0;

  constructor(
    private readonly option: string,
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger('ApexAuth'),
  ) {}

  /** Records the signature check of one token. */
  record(signatureValid: boolean): void {
    if (this.checked >= KEY_MISMATCH_SAMPLE) return;
    this.checked++;
    if (!signatureValid) this.failed++;
    if (this.checked === KEY_MISMATCH_SAMPLE && this.failed === KEY_MISMATCH_SAMPLE) {
      this.logger.warn(
        `The signatures of all of the first ${KEY_MISMATCH_SAMPLE} tokens verified since startup were wrong: ` +
          `${this.option} probably does not match the auth-service's signing key`,
      );
    }
  }
}
