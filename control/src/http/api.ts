/**
 * Routes declared with their zod schemas: the schemas validate every request (400 naming the field), and the same
 * declarations produce the OpenAPI document served at `/openapi.json`.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext, AppEnv, AuthUser } from './context.js';
import { ErrorBody, HttpError, badRequest, fromZod, unauthorized } from './errors.js';

/** Meeting ids: what `newMeetingId` makes (and older ids of the same alphabet). */
export const MeetingId = z.string().regex(/^[a-z0-9]{1,64}$/, 'not a meeting id');
/**
 * Path parameters by name: every route's parameters are validated here, before any handler or database sees them
 * (a 400 naming the parameter). A name not listed is a short printable string.
 */
export const PATH_PARAMS: Record<string, z.ZodType<string>> = {
  id: MeetingId,
  userId: z.uuid('not a user id'),
  participantId: z.uuid('not a participant id'),
  file: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'not a file name'),
};
const AnyParam = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'unexpected characters');

/** The path (`a.b.0`) of the first string inside `value` that holds a NUL character, or null. PostgreSQL stores no NUL. */
export function findNul(value: unknown, path: string[] = [], depth = 0): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) return [...path, k];
    const hit = findNul(v, [...path, k], depth + 1);
    if (hit) return hit;
  }
  return null;
}

function rejectNul(value: unknown, where: 'body' | 'query'): void {
  const at = findNul(value);
  if (at) {
    const field = at.length ? at.join('.') : where;
    throw badRequest(`${field}: must not contain NUL characters`, field);
  }
}

/** Reads a JSON request body and validates it: 400 naming the field for bad JSON, NUL characters or a zod failure. */
export async function jsonBody<T extends z.ZodType>(req: { json(): Promise<unknown> }, schema: T): Promise<z.output<T>> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw badRequest('body: not valid JSON', 'body');
  }
  rejectNul(raw, 'body');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error, 'body');
  return parsed.data;
}

/** True for `application/json` and `application/<x>+json`, with parameters. */
export const isJsonType = (ct: string | undefined): boolean =>
  !!ct && /^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i.test(ct.trim());

/** Validates a route's path parameters (see PATH_PARAMS). */
export function parseParams(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const r = (PATH_PARAMS[name] ?? AnyParam).safeParse(value);
    if (!r.success) throw badRequest(`${name}: ${r.error.issues[0]?.message ?? 'invalid'}`, name);
    out[name] = r.data;
  }
  return out;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<B extends Schema, Q extends Schema, R extends Schema> {
  method: Method;
  /** Hono path, e.g. `/meetings/:id`. */
  path: string;
  tag: string;
  summary: string;
  /** `user`: a signed-in user is required (401 otherwise). */
  auth: 'user' | 'none';
  body?: B;
  query?: Q;
  response?: R;
  /** Success status; 200 by default. */
  status?: 200 | 201 | 202 | 204;
  /** Other statuses this route answers with, for the document. */
  errors?: number[];
}

export interface Input<B extends Schema, Q extends Schema, A extends 'user' | 'none'> {
  body: Out<B>;
  query: Out<Q>;
  params: Record<string, string>;
  user: A extends 'user' ? AuthUser : AuthUser | null;
}

export class Api {
  private readonly specs: RouteSpec<Schema, Schema, Schema>[] = [];

  constructor(readonly app: Hono<AppEnv>) {}

  route<B extends Schema, Q extends Schema, R extends Schema, A extends 'user' | 'none'>(
    spec: RouteSpec<B, Q, R> & { auth: A },
    handler: (input: Input<B, Q, A>, c: AppContext) => Promise<Out<R> | Response> | Out<R> | Response,
  ): void {
    this.specs.push(spec);
    this.app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      const user = c.get('user') ?? null;
      if (spec.auth === 'user' && !user) throw unauthorized();
      const params = parseParams(c.req.param() as Record<string, string>);
      let body: unknown;
      if (spec.body) {
        // A JSON body must say so: a text/plain or form body is what a cross-site form or "simple" request sends.
        if (!isJsonType(c.req.header('content-type'))) {
          throw new HttpError(415, 'unsupported_media_type', 'body: send JSON with Content-Type: application/json', 'body');
        }
        body = await jsonBody(c.req, spec.body);
      }
      let query: unknown;
      if (spec.query) {
        const rawQuery = c.req.query();
        rejectNul(rawQuery, 'query');
        const parsed = spec.query.safeParse(rawQuery);
        if (!parsed.success) throw fromZod(parsed.error, 'query');
        query = parsed.data;
      }
      const result = await handler({ body, query, params, user } as Input<B, Q, A>, c);
      if (result instanceof Response) return result;
      if (spec.status === 204) return c.body(null, 204);
      return c.json(result ?? {}, spec.status ?? 200);
    });
  }

  /** The OpenAPI 3.1 document of every declared route. */
  openapi(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const json = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });
    for (const s of this.specs) {
      const oaPath = s.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...s.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
        name: m[1], in: 'path', required: true, schema: json(PATH_PARAMS[m[1]!] ?? AnyParam, 'input'),
      }));
      if (s.query) {
        const q = json(s.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(q.properties ?? {})) {
          params.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema } as never);
        }
      }
      const responses: Record<string, unknown> = {
        [String(s.status ?? 200)]: s.status === 204 || !s.response
          ? { description: 'done' }
          : { description: 'ok', content: { 'application/json': { schema: json(s.response, 'output') } } },
      };
      for (const code of [...(s.body || s.query || params.length ? [400] : []), ...(s.body ? [415] : []), ...(s.auth === 'user' ? [401] : []), ...(s.errors ?? [])]) {
        responses[String(code)] = { description: 'error', content: { 'application/json': { schema: json(ErrorBody, 'output') } } };
      }
      (paths[oaPath] ??= {})[s.method] = {
        tags: [s.tag],
        summary: s.summary,
        ...(params.length ? { parameters: params } : {}),
        ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(s.body, 'input') } } } } : {}),
        ...(s.auth === 'user' ? { security: [{ session: [] }, { bearer: [] }] } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info,
      paths,
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'mm_session' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    };
  }
}
