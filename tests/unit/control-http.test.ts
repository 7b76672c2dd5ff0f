/** Control-plane plumbing without I/O: rate limits, secrets, configuration, request validation and OpenAPI. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { z } from 'zod';
import { loadControlConfig } from '../../control/src/config.js';
import { Api } from '../../control/src/http/api.js';
import type { AppEnv } from '../../control/src/http/context.js';
import { HttpError, errorResponse } from '../../control/src/http/errors.js';
import { RateLimiter } from '../../control/src/http/rate-limit.js';

describe('rate limiter', () => {
  test('a burst, then one per refill interval, per key', () => {
    const r = new RateLimiter({ burst: 3, perSecond: 1 });
    const t = 1_000_000;
    assert.deepEqual([r.take('a', t), r.take('a', t), r.take('a', t)], [0, 0, 0]);
    assert.equal(r.take('a', t), 1);
    assert.equal(r.take('b', t), 0, 'other keys are not affected');
    assert.equal(r.take('a', t + 1000), 0, 'a token came back after a second');
    assert.equal(r.take('a', t + 1000), 1);
  });
  test('memory stays bounded', () => {
    const r = new RateLimiter({ burst: 1, perSecond: 1, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) r.take(`k${i}`, 0);
    assert.equal((r as unknown as { buckets: Map<string, unknown> }).buckets.size, 100);
  });
});

describe('control configuration', () => {
  test('defaults: embedded database, chat in PostgreSQL', () => {
    const c = loadControlConfig({});
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.cassandraContactPoints, undefined);
    assert.equal(c.httpPort, 8090);
  });
  test('errors name the variable', () => {
    assert.throws(() => loadControlConfig({ CONTROL_PUBLIC_URL: 'not a url' }), /CONTROL_PUBLIC_URL/);
    assert.throws(() => loadControlConfig({ EXTERNAL_IDPS: '[{"name":"Bad Name"}]' }), /EXTERNAL_IDPS/);
    assert.throws(() => loadControlConfig({ EXTERNAL_IDPS: '{' }), /EXTERNAL_IDPS: not valid JSON/);
  });
  test('external IdPs parse from JSON', () => {
    const c = loadControlConfig({ EXTERNAL_IDPS: JSON.stringify([{ name: 'corp', issuer: 'https://idp.example', clientId: 'a', clientSecret: 'b' }]) });
    assert.equal(c.externalIdps[0]!.name, 'corp');
  });
});

describe('declared routes', () => {
  function app() {
    const hono = new Hono<AppEnv>();
    hono.onError((err, c) => (err instanceof HttpError ? errorResponse(c, err) : c.text('boom', 500)));
    hono.use('*', async (c, next) => {
      c.set('user', c.req.header('x-user') ? { id: 'u1', email: 'u@x', displayName: 'U' } : null);
      await next();
    });
    const api = new Api(hono);
    api.route({
      method: 'post', path: '/things/:id', tag: 't', summary: 'make a thing', auth: 'user',
      body: z.object({ name: z.string().min(1), size: z.number().int().max(10) }),
      query: z.object({ dry: z.enum(['yes', 'no']).default('no') }),
      response: z.object({ id: z.string(), name: z.string(), dry: z.string() }), status: 201,
    }, ({ body, params, query }) => ({ id: params.id!, name: body.name, dry: query.dry }));
    return { hono, api };
  }
  const call = (hono: Hono<AppEnv>, body: string, headers: Record<string, string> = { 'x-user': '1' }, qs = '') =>
    hono.request(`/things/t1${qs}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  test('valid input reaches the handler', async () => {
    const res = await call(app().hono, JSON.stringify({ name: 'a', size: 1 }));
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { id: 't1', name: 'a', dry: 'no' });
  });
  test('401 without a user', async () => {
    assert.equal((await call(app().hono, '{}', {})).status, 401);
  });
  test('400 names the field', async () => {
    const res = await call(app().hono, JSON.stringify({ name: 'a', size: 11 }));
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; field: string } };
    assert.equal(body.error.code, 'bad_request');
    assert.equal(body.error.field, 'size');
  });
  test('400 for malformed JSON and for a bad query', async () => {
    assert.equal((await call(app().hono, '{nope')).status, 400);
    const res = await call(app().hono, JSON.stringify({ name: 'a', size: 1 }), undefined, '?dry=maybe');
    assert.equal(((await res.json()) as { error: { field: string } }).error.field, 'dry');
  });
  test('the OpenAPI document describes the route', () => {
    const doc = app().api.openapi({ title: 't', version: '1' }) as any;
    const op = doc.paths['/things/{id}'].post;
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), ['path:id', 'query:dry']);
    assert.deepEqual(Object.keys(op.responses).sort(), ['201', '400', '401', '415']);
    assert.deepEqual(op.requestBody.content['application/json'].schema.required, ['name', 'size']);
  });
});
