/** Great-circle distance on a spherical earth (haversine): good to about 0.5 %, plenty to rank nodes. */
export interface Point {
  latitude: number;
  longitude: number;
}

/** Mean earth radius, km (IUGG). */
export const EARTH_RADIUS_KM = 6371.0088;

export function distanceKm(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
