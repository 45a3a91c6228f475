/** A mistake in how the CLI was called: printed with a hint, exit code 2. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}
