import { ERROR_CODES, type ErrorCode } from '@gleaner/contracts/codes';

/** `errors.LOGIN_FAILED === 'LOGIN_FAILED'`: the codes a konnector ends with, as the guide names them. */
export const errors = Object.freeze(Object.fromEntries(ERROR_CODES.map((code) => [code, code]))) as {
  readonly [C in ErrorCode]: C;
};

/** An error whose message is a stable code: the run ends with that code. */
export class KonnectorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, options?: { cause?: unknown }) {
    super(code, options);
    this.name = 'KonnectorError';
    this.code = code;
  }
}
