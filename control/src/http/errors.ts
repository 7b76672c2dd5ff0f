/** HTTP errors as answers: a status, a stable code, a message, and for bad input the field at fault. */
import type { Context } from 'hono';
import { z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 423 | 429 | 500 | 502 | 503,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const badRequest = (message: string, field?: string) => new HttpError(400, 'bad_request', message, field);
export const unauthorized = (message = 'sign in first') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'not allowed') => new HttpError(403, 'forbidden', message);
export const notFound = (what = 'not found') => new HttpError(404, 'not_found', what);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);

/** A zod failure as a 400 naming the first field. */
export function fromZod(error: z.ZodError, where: 'body' | 'query' | 'path'): HttpError {
  const first = error.issues[0];
  const field = first && first.path.length ? first.path.join('.') : where;
  return badRequest(`${field}: ${first?.message ?? 'invalid'}`, field);
}

export function errorResponse(c: Context, err: HttpError): Response {
  return c.json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, err.status);
}
