/**
 * Token buckets keyed by client (IP, or IP + meeting): pure state with an injectable clock, so tests need no waits.
 * Used for login, registration and join. Memory is bounded: idle full buckets are dropped.
 */
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './errors.js';
import type { AppEnv } from './context.js';

export interface RateLimitOptions {
  /** Requests allowed in a burst. */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
  /** Most keys kept; beyond it the stalest are dropped. */
  maxKeys?: number;
  /** The clock (ms), for tests that must not depend on how fast they run; default Date.now. */
  clock?: () => number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly o: RateLimitOptions) {}

  /** Takes one token for `key`: 0 when allowed, else the seconds to wait. */
  take(key: string, now = (this.o.clock ?? Date.now)()): number {
    const b = this.buckets.get(key) ?? { tokens: this.o.burst, at: now };
    b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.perSecond);
    b.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, b); // most recent last
    if (this.buckets.size > (this.o.maxKeys ?? 100_000)) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.o.perSecond);
  }
}

export function rateLimit(limiter: RateLimiter, key: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const wait = limiter.take(key(c));
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new HttpError(429, 'rate_limited', `too many requests; retry in ${wait}s`);
    }
    await next();
  };
}
