import type { Figure, ScenarioResult } from '../lib/report-types.js';

export function formatValue(value: number | null): string {
  if (value === null) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function targetCell(f: Figure): string {
  if (!f.target) return '';
  const mark = f.met === null ? '' : f.met ? ' ✅' : ' ❌';
  return `${f.target.op === '>=' ? '≥' : '≤'} ${f.target.value}${mark}`;
}

/** The report as one markdown table (scenario, figure, median, unit, the runs it is the median of, target). */
export function markdownTable(results: readonly ScenarioResult[]): string {
  const lines = ['| scenario | store | figure | median | unit | runs | target |', '|---|---|---|---:|---|---|---|'];
  for (const result of results) {
    if (result.figures.length === 0) {
      lines.push(`| ${result.title} | ${result.store} | ${result.status}: ${result.note ?? ''} | | | | |`);
      continue;
    }
    if (result.status !== 'ok')
      lines.push(`| ${result.id} | ${result.store} | ${result.status}: ${result.note ?? ''} | | | | |`);
    for (const f of result.figures) {
      lines.push(
        `| ${result.id} | ${result.store} | ${f.label} | ${formatValue(f.value)} | ${f.unit} | ${f.runs.map(formatValue).join(', ')} | ${targetCell(f)} |`,
      );
    }
  }
  return lines.join('\n');
}
