/** Where to send the browser after sign-in: only a path on this origin, never another site (no open redirects). */
const BASE = 'http://meshmeet.invalid';

export function safeReturnTo(raw: string | null | undefined, fallback = '/'): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) return fallback;
  // A path: one leading slash, not `//host` or `/\host` (browsers treat both as another host), no control characters
  // or backslashes anywhere (some browsers turn `\` into `/`).
  if (raw[0] !== '/' || raw[1] === '/' || raw.includes('\\') || /[\u0000-\u001f\u007f]/.test(raw)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  // Parse first, then judge the result: dot segments collapse (`/..//evil.com` becomes `//evil.com`), so the path that
  // comes out must itself be a same-origin path, and must resolve back to this origin.
  const out = `${url.pathname}${url.search}${url.hash}`;
  if (out[1] === '/' || out.includes('\\')) return fallback;
  try {
    if (new URL(out, BASE).origin !== BASE) return fallback;
  } catch {
    return fallback;
  }
  return out;
}
