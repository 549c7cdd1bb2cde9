/**
 * Human output is plain aligned text (no colour, so it pastes and pipes cleanly); `--json` prints one JSON
 * document on stdout. Messages for people who are watching go to stderr so that stdout stays scriptable.
 *
 * Much of what is printed comes from children (hostname, version, error messages) or from other users (names,
 * descriptions): a control character in it would reach the operator's terminal as an escape sequence (retitle the
 * window, clear the screen, rewrite what was printed). Every human output goes through `escapeControl` here; JSON
 * output stays exact.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

// Matching control characters is the point of these two.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** C0, DEL and C1 control characters (ESC, BEL, CR…) as visible `\u001b` escapes; newlines too unless `keepNewlines`. */
export function escapeControl(text: string, keepNewlines = false): string {
  return text.replace(
    keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** One line of human output; the text's own newlines are kept, every other control character is escaped. */
export function printLine(text = ''): void {
  process.stdout.write(`${escapeControl(text, true)}\n`);
}

/** A message for the person watching, on stderr, escaped as human output is. */
export function printError(text: string): void {
  process.stderr.write(`${escapeControl(text, true)}\n`);
}

/** A table with a header row; every column is padded to its widest cell. */
export function printTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  process.stdout.write(
    formatTable(
      headers,
      rows.map((row) => row.map((cell) => escapeControl(cell))),
    ),
  );
}

function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

/** `key: value` lines with the values aligned. */
export function printFields(fields: ReadonlyArray<readonly [string, string]>): void {
  const width = Math.max(0, ...fields.map(([key]) => key.length));
  for (const [key, value] of fields) printLine(`${`${key}:`.padEnd(width + 1)} ${escapeControl(value)}`);
}

/** "12s ago", "3m ago", "never": how long since an ISO timestamp. */
/** A feed's next due time (docs/refresh.md): `now` when due or never learned, else `in 12m`. */
export function formatDue(isoTime: string | null, nowMs: number = Date.now()): string {
  if (isoTime === null) return 'now';
  const seconds = Math.round((Date.parse(isoTime) - nowMs) / 1000);
  return seconds <= 0 ? 'now' : `in ${formatSeconds(seconds)}`;
}

/** A duration as its largest sensible unit: `45s`, `12m`, `5h`, `3d`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

export function formatAge(isoTime: string | null, nowMs: number = Date.now()): string {
  if (isoTime === null) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(isoTime)) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86400)}d ago`;
}
