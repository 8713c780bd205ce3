/**
 * Every token one emulator handed out, access and refresh alike, oldest first: kept so
 * that a test can search what its app answered and logged for them.
 */
export class IssuedTokens {
  private readonly tokens: string[] = [];

  /** Notes `token` as issued; returns it. */
  record(token: string): string {
    this.tokens.push(token);
    return token;
  }

  /** A copy of every token noted so far, oldest first. */
  all(): string[] {
    return [...this.tokens];
  }
}
