/**
 * Generators of bad input for the fuzz suite (fast-check): wrong types, missing and extra fields, huge and empty
 * strings, NUL and control characters, non-UUID ids, other users' ids, prototype keys. Objects are generated as
 * lists of entries and serialised by hand, so that keys like `__proto__` reach the wire as real keys.
 *
 * `FUZZ_RUNS` (cases per route or method) runs more by hand; the default keeps the suite fast.
 */
import fc from 'fast-check';

export const FUZZ_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 25));
/** A seed per run (printed), or FUZZ_SEED to replay one. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

/** Runs a fast-check assertion; a failure's report (counterexamples may hold 200 KB strings) is cut short. */
export async function bounded(run: Promise<void>): Promise<void> {
  try {
    await run;
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const cut = (s: string) => (s.length > 3000 ? `${s.slice(0, 3000)}… (${s.length} characters)` : s);
    throw new Error(`${cut(e.message)}${e.cause ? `\ncause: ${cut(e.cause.message)}` : ''}`);
  }
}

/** A JSON object as ordered entries (duplicate and prototype keys allowed). */
export class Entries {
  constructor(readonly entries: Array<[string, Json]>) {}
}
export type Json = null | boolean | number | string | Json[] | Entries;

export function toJson(v: Json): string {
  if (v instanceof Entries) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  return JSON.stringify(v) ?? 'null';
}

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

/** Strings that have broken servers before. */
export const NASTY_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\u0001\u0002\u001f\u007f', '\t\r\n', '%00', '%', '%zz', '..', '../../etc/passwd', '/..//evil.com',
  "' OR '1'='1", '"; DROP TABLE users; --', '<script>alert(1)</script>', '${7*7}', '\uD800', '\uDFFF', '\uFFFE', 'ĀĀ', '会議',
  '𝕏😀', '\u202Egnp.exe', 'null', 'undefined', 'true', '0', '-1', '1e309', 'NaN', ...PROTOTYPE_KEYS,
];

/** A bad or surprising string: nasty constants, random text with control characters, empty, huge. */
export function badString(known: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 3, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map((s) => s + String.fromCharCode(0)) },
    { weight: 1, arbitrary: fc.integer({ min: 300, max: 9000 }).map((n) => 'x'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 65_000, max: 200_000 }).map((n) => 'y'.repeat(n)) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: known.length ? 3 : 0, arbitrary: known.length ? fc.constantFrom(...known) : fc.constant('') },
  );
}

/** Any JSON value, biased towards wrong types and nasty strings; objects may carry prototype keys. */
export function badValue(known: readonly string[] = [], depth = 2): fc.Arbitrary<Json> {
  const leaf: fc.Arbitrary<Json> = fc.oneof(
    { weight: 5, arbitrary: badString(known) },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, -0) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  if (depth <= 0) return leaf;
  const inner = badValue(known, depth - 1);
  return fc.oneof(
    { weight: 6, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }) },
    { weight: 1, arbitrary: badObject(inner) },
  );
}

export function badObject(value: fc.Arbitrary<Json>, keys: readonly string[] = []): fc.Arbitrary<Entries> {
  const key = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, ...keys, ''), fc.string({ maxLength: 12 }));
  return fc.array(fc.tuple(key, value), { maxLength: 5 }).map((e) => new Entries(e));
}

/** A JSON-schema property (as zod's toJSONSchema writes them) to a plausible value, to get past validation sometimes. */
export function plausible(schema: any, known: { uuids: string[]; emails: string[] }): fc.Arbitrary<Json> {
  if (!schema || typeof schema !== 'object') return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alts)) return fc.oneof(...alts.map((a: unknown) => plausible(a, known)));
  switch (schema.type) {
    case 'null': return fc.constant(null);
    case 'boolean': return fc.boolean();
    case 'integer':
    case 'number': return fc.integer({ min: schema.minimum ?? -5, max: Math.min(schema.maximum ?? 100_000, 100_000) });
    case 'array': return fc.array(plausible(schema.items, known), { maxLength: 3 });
    case 'object': {
      const props = Object.entries(schema.properties ?? {});
      return fc.tuple(...props.map(([k, s]) => fc.option(plausible(s, known), { nil: undefined }).map((v) => [k, v] as const)))
        .map((kv) => new Entries(kv.filter(([, v]) => v !== undefined) as Array<[string, Json]>));
    }
    case 'string':
    default:
      if (schema.format === 'uuid') return fc.oneof(fc.constantFrom(...known.uuids), fc.uuid());
      if (schema.format === 'email') return fc.constantFrom(...known.emails, 'nobody@example.test');
      if (schema.format === 'date-time') return fc.constantFrom('2030-01-01T10:00:00Z', '2000-02-30T25:61:00Z', '2030-01-01T10:00:00+14:00');
      return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 20, 20) }), fc.constantFrom('UTC', 'Europe/Paris', 'abcd1234'));
  }
}

/** An object for a JSON-schema body: some of its properties (plausible or bad values), sometimes extra keys. */
export function bodyFor(schema: any, known: { uuids: string[]; emails: string[]; strings: string[] }): fc.Arbitrary<Json> {
  const variants: any[] = schema?.oneOf ?? schema?.anyOf ?? [schema];
  const bad = badValue(known.strings);
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...variants).chain((v) => {
      const props = Object.entries<any>(v?.properties ?? {});
      const field = ([k, s]: [string, any]) =>
        fc.option(fc.oneof({ weight: 2, arbitrary: plausible(s, known) }, { weight: 1, arbitrary: bad }), { nil: undefined, freq: 4 })
          .map((x) => [k, x] as const);
      return fc.tuple(fc.tuple(...props.map(field)), fc.array(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS, 'extra', 'id'), bad), { maxLength: 2 }))
        .map(([kv, extra]) => new Entries([...(kv.filter(([, x]) => x !== undefined) as Array<[string, Json]>), ...extra]));
    }) },
    { weight: 1, arbitrary: bad },
  );
}
