/**
 * Imported first by main.ts: zod would otherwise probe `new Function` for its fast path while the protocol's
 * schemas are built, which a `default-src 'self'` CSP reports as a violation. Parse without that path.
 */
import { z } from 'zod';

z.config({ jitless: true });
