/** An error caused by the user's input (bad path, bad option, bad data): printed without a stack trace. */
export class UserError extends Error {
  readonly userFacing = true;
  override name = 'UserError';
}
