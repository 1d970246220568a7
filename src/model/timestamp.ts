// RFC 3339 in whole seconds, as the API server writes metav1.Time.
//
// Computed by arithmetic, not with Date#toISOString(): the first
// toISOString() in a process costs ~12 ms (V8 sets up its date formatting
// then), which was a fifth of a cold startCluster().

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

let lastSecond = Number.NaN;
let lastText = '';

/**
 * The time `ms` (epoch milliseconds) as the API server writes it. Made once
 * per second and shared: a large scale stamps thousands of objects in one.
 */
export function rfc3339At(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastText = rfc3339Seconds(second);
  }
  return lastText;
}

/** `second` seconds after the Unix epoch, as `YYYY-MM-DDTHH:MM:SSZ` (UTC). */
export function rfc3339Seconds(second: number): string {
  const days = Math.floor(second / 86400);
  const inDay = second - days * 86400;
  // Howard Hinnant's civil_from_days: proleptic Gregorian calendar.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hh = Math.floor(inDay / 3600);
  const mm = Math.floor((inDay % 3600) / 60);
  const ss = inDay % 60;
  return `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}T${pad2(hh)}:${pad2(mm)}:${pad2(ss)}Z`;
}
