/**
 * Routes declared with their zod schemas: the schemas validate every request (400 naming the field), and the same
 * declarations produce the OpenAPI document served at `/openapi.json`.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext, AppEnv, AuthUser } from './context.js';
import { ErrorBody, badRequest, fromZod, unauthorized } from './errors.js';

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
      let body: unknown;
      if (spec.body) {
        let raw: unknown;
        try {
          raw = await c.req.json();
        } catch {
          throw badRequest('body: not valid JSON', 'body');
        }
        const parsed = spec.body.safeParse(raw);
        if (!parsed.success) throw fromZod(parsed.error, 'body');
        body = parsed.data;
      }
      let query: unknown;
      if (spec.query) {
        const parsed = spec.query.safeParse(c.req.query());
        if (!parsed.success) throw fromZod(parsed.error, 'query');
        query = parsed.data;
      }
      const result = await handler({ body, query, params: c.req.param() as Record<string, string>, user } as Input<B, Q, A>, c);
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
      const params = [...s.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
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
      for (const code of [...(s.body || s.query ? [400] : []), ...(s.auth === 'user' ? [401] : []), ...(s.errors ?? [])]) {
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
