// Terminal output helpers: colour only on a TTY, NO_COLOR honoured; plain tables.

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && process.env.TERM !== 'dumb';
}

function wrap(code: string, reset: string) {
  return (s: string, stream: NodeJS.WriteStream = process.stdout) => (useColor(stream) ? `\x1b[${code}m${s}\x1b[${reset}m` : s);
}

export const bold = wrap('1', '22');
export const yellow = wrap('33', '39');
export const red = wrap('31', '39');
export const green = wrap('32', '39');
export const dim = wrap('2', '22');

/** Columns to fit output into: the terminal's width, else COLUMNS, else 80 (output to a file or pipe). */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY && stream.columns > 0) return stream.columns;
  const cols = env.COLUMNS;
  if (cols && /^\d{1,4}$/.test(cols) && Number(cols) >= 20) return Number(cols);
  return 80;
}

/** How wide table() prints these rows (the longest line). */
export function tableWidth(headers: string[], rows: string[][]): number {
  return headers.reduce((sum, h, i) => sum + Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)), 0) + 2 * (headers.length - 1);
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [bold(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** `2026-11-27 09:20Z`: minute precision, UTC, unambiguous. */
export function shortTime(iso: string | null, none = 'never'): string {
  if (iso === null) return none;
  return iso.slice(0, 16).replace('T', ' ') + 'Z';
}

/** `2026-11-27`: the UTC day, for narrow layouts. */
export function shortDate(iso: string | null, none = 'never'): string {
  return iso === null ? none : iso.slice(0, 10);
}

export function relative(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never expires';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const units: [number, string][] = [
    [365 * 86_400_000, 'year'],
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const n = Math.round(abs / size);
      const s = `${n} ${unit}${n === 1 ? '' : 's'}`;
      return ms >= 0 ? `in ${s}` : `${s} ago`;
    }
  }
  return ms >= 0 ? 'in under a minute' : 'just now';
}
