/** The gateway's client of the control plane's internal phone API (see edge-node/protocol/phone.ts). */
import {
  PHONE_API_PREFIX, PhoneError, PhoneJoinResponse, PhoneLookupResponse, type PhoneJoinRequest, type PhoneLeaveRequest,
} from '../protocol/phone.js';
import type { z } from 'zod';

export type Answer<T> = { ok: true; data: T } | { ok: false; status: number; code: string };

export class PhoneControlClient {
  constructor(private readonly baseUrl: string, private readonly secret: string) {}

  lookup(pin: string): Promise<Answer<z.infer<typeof PhoneLookupResponse>>> {
    return this.post('/lookup', { pin }, PhoneLookupResponse);
  }

  join(r: PhoneJoinRequest): Promise<Answer<PhoneJoinResponse>> {
    return this.post('/join', r, PhoneJoinResponse);
  }

  async leave(r: PhoneLeaveRequest): Promise<boolean> {
    const res = await this.post('/leave', r, null);
    return res.ok;
  }

  private async post<T extends z.ZodType>(path: string, body: unknown, schema: T | null): Promise<Answer<z.infer<T>>> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${PHONE_API_PREFIX}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.secret}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      return { ok: false, status: 503, code: 'control_unreachable' };
    }
    const json: unknown = await res.json().catch(() => null);
    if (res.ok && !schema) return { ok: true, data: null as z.infer<T> };
    if (res.ok && schema) {
      const parsed = schema.safeParse(json);
      return parsed.success ? { ok: true, data: parsed.data } : { ok: false, status: 502, code: 'bad_answer' };
    }
    const err = PhoneError.safeParse(json);
    return { ok: false, status: res.status, code: err.success ? err.data.error.code : 'error' };
  }
}
