/** Time zones with Intl only: wall-clock times in a zone to instants and back, for the scheduling form. */

export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** Every IANA zone this browser knows, with UTC and `extra` (e.g. the profile's zone) guaranteed in the list. */
export function timeZones(...extra: string[]): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = [];
  }
  return [...new Set([...zones, 'UTC', ...extra.filter(Boolean)])].sort();
}

/** The wall-clock parts of instant `t` in `timeZone`. */
function partsIn(t: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second! };
}

/** Offset of `timeZone` from UTC at instant `t`, in milliseconds (east positive). */
function offsetAt(t: number, timeZone: string): number {
  const p = partsIn(t, timeZone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(t / 1000) * 1000;
}

/** `YYYY-MM-DDTHH:mm` as a wall-clock time in `timeZone` → the instant. (A time skipped by DST moves forward.) */
export function zonedToInstant(local: string, timeZone: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) throw new Error('pick a start date and time');
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  let t = asUtc - offsetAt(asUtc, timeZone);
  t = asUtc - offsetAt(t, timeZone); // once more, for a DST change between the guess and the answer
  return new Date(t);
}

/** Instant `iso` as a `datetime-local` value on the wall clock of `timeZone` (for editing a meeting's start). */
export function instantToZonedLocal(iso: string, timeZone: string): string {
  const p = partsIn(Date.parse(iso), timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}`;
}

/** The next full hour in `timeZone`, as a `datetime-local` value. */
export function nextHourLocal(timeZone: string): string {
  const p = partsIn(Date.now() + 3600_000, timeZone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:00`;
}

/** e.g. "Tue, 2 Dec 2025, 10:00 GMT+1" in `timeZone`. */
export function formatInstant(iso: string, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
    }).format(new Date(iso));
  } catch {
    return new Date(iso).toLocaleString();
  }
}

/** The clock time of an instant, e.g. "15:30" (in `timeZone`, or the browser's). */
export function formatClock(iso: string, timeZone?: string): string {
  try {
    return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', ...(timeZone ? { timeZone } : {}) });
  } catch {
    return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
}
