/** Errors of the stack's services; the API maps each code to an HTTP status. */
export type StackErrorCode = 'not_found' | 'conflict' | 'invalid' | 'forbidden';

export class StackError extends Error {
  readonly code: StackErrorCode;
  readonly details: unknown;
  constructor(code: StackErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'StackError';
    this.code = code;
    this.details = details;
  }
}
