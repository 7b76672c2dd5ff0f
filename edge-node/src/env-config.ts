/**
 * Configuration from environment variables, one way for every process (the edge node, the control plane, the SIP
 * gateway): each setting has its variable, an empty variable counts as unset, explicit overrides win, and a failure
 * is one readable error naming the variables at fault. Exported through edge-node/index.ts for the control plane.
 */
import { z } from 'zod';

/** pino's levels. */
export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** A port to listen on: 0 takes any free port. */
export const ListenPort = z.coerce.number().int().min(0).max(65535);
/** A yes/no setting: a boolean, or its text form in a variable (true/false/1/0). */
export const Flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')], { error: 'expected true, false, 1 or 0' });

export interface EnvConfigSource<S extends z.ZodType> {
  /** What is configured, for the error message: "invalid <what> configuration: ...". */
  what: string;
  schema: S;
  /** The environment variable of each setting. */
  vars: Readonly<Record<string, string>>;
  env: NodeJS.ProcessEnv;
  /** Settings given by the caller: they win over the environment. */
  overrides?: Partial<z.input<S>>;
  /** Settings whose variable holds JSON. */
  json?: readonly string[];
}

/** Reads and validates the settings; throws one error naming each bad variable (or setting, for overrides). */
export function loadEnvConfig<S extends z.ZodType>(o: EnvConfigSource<S>): z.output<S> {
  const fail = (msg: string): never => {
    throw new Error(`invalid ${o.what} configuration: ${msg}`);
  };
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(o.vars)) {
    const v = o.env[name];
    if (v === undefined || v === '') continue;
    if (!o.json?.includes(key)) raw[key] = v;
    else {
      try {
        raw[key] = JSON.parse(v);
      } catch {
        fail(`${name}: not valid JSON`);
      }
    }
  }
  const parsed = o.schema.safeParse({ ...raw, ...o.overrides });
  if (parsed.success) return parsed.data;
  const where = (path: PropertyKey[]) => [o.vars[String(path[0])] ?? String(path[0]), ...path.slice(1).map(String)].join('.');
  return fail(parsed.error.issues.map((i) => (i.path.length ? `${where(i.path)}: ${i.message}` : i.message)).join('; '));
}
