/** How a command prints: JSON for scripts (--json), aligned columns for people. */
export interface Output {
  json: boolean;
  out(text: string): void;
}

export const stdout: Output['out'] = (text) => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

export type Column<T> = [header: string, value: (row: T) => unknown];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cell).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value as string | number | boolean | bigint);
}

/** Plain aligned columns (as kubectl prints them), easy to read and to grep. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, value]) => cell(value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** Key: value lines for one object. */
export function fields(pairs: readonly [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join('\n') + '\n';
}

/** Prints `data` as JSON with --json, else as `human(data)`. */
export function print<T>(output: Output, data: T, human: (data: T) => string): void {
  output.out(output.json ? JSON.stringify(data, null, 2) : human(data));
}
