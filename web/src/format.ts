import { locale } from './i18n/i18n';

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
];

/** "12 seconds ago" / "in 3 minutes" in the chosen language. */
export function relative(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - nowMs;
  const format = new Intl.RelativeTimeFormat(locale.value, { numeric: 'auto', style: 'short' });
  for (const [unit, ms] of UNITS)
    if (Math.abs(diff) >= ms || unit === 'second') return format.format(Math.round(diff / ms), unit);
  return '—';
}

/** A date and time in the viewer's own time zone. */
export function dateTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  return new Intl.DateTimeFormat(locale.value, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
}

export function timeOfDay(iso: string | number): string {
  return new Intl.DateTimeFormat(locale.value, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** `value` in `unit` ("2 hr", "1.5 MB"), short, in the chosen language. */
function inUnit(value: number, unit: string): string {
  return new Intl.NumberFormat(locale.value, {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: 1,
  }).format(value);
}

const DURATION_UNITS: Array<[string, number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** A duration in seconds as its largest whole-ish unit, in the chosen language ("2 hr", "2 小时"). */
export function duration(seconds: number): string {
  const [unit, size] = DURATION_UNITS.find(([, s]) => seconds >= s * 2) ?? ['second', 1];
  return inUnit(seconds / size, unit);
}

const BYTE_UNITS: Array<[string, number]> = [
  ['gigabyte', 1024 ** 3],
  ['megabyte', 1024 ** 2],
  ['kilobyte', 1024],
  ['byte', 1],
];

/** A byte count in its largest unit, in the chosen language ("1.5 MB"). */
export function bytes(count: number): string {
  const [unit, size] = BYTE_UNITS.find(([, s]) => count >= s) ?? ['byte', 1];
  return inUnit(count / size, unit);
}
