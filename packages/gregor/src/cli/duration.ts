/**
 * ISO-8601 durations as java.time.Duration.parse reads them (what kafka-consumer-groups
 * --by-duration takes): `PnDTnHnMn.nS`, each part optional but at least one, an optional leading
 * sign, fractional seconds. Pure function.
 */
const DURATION = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+(?:[.,]\d{0,9})?)S)?)?$/i;

/** The duration in milliseconds, or undefined when `text` is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const [, sign, days, hours, minutes, seconds] = match;
  if (days === undefined && hours === undefined && minutes === undefined && seconds === undefined) return undefined;
  if (/T$/i.test(text.trim())) return undefined;
  const ms = Number(days ?? 0) * 86_400_000 + Number(hours ?? 0) * 3_600_000 + Number(minutes ?? 0) * 60_000 + Math.round(Number((seconds ?? '0').replace(',', '.')) * 1000);
  return sign === '-' ? -ms : ms;
}
