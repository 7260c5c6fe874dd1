import { ErrorBody } from '../schemas.ts';

const err = (description: string) => ({ content: { 'application/json': { schema: ErrorBody } }, description });

/** The error answers every authenticated route may give, for the OpenAPI document. */
export const authErrors = {
  401: err('missing or unknown bearer token'),
  403: err('token scope too low'),
} as const;

export const notFoundError = { 404: err('no such site, node or revision') } as const;
export const badRequest = { 400: err('malformed request') } as const;
export const errorResponse = err;
