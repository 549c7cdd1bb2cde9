import type { ScenarioResult } from '../lib/report-types.js';
import { formatValue } from './table.js';

type Series = { name: string; color: string; points: Array<{ x: number; y: number }> };

const WIDTH = 640;
const HEIGHT = 360;
const PAD = { left: 70, right: 150, top: 40, bottom: 50 };

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A "nice" axis maximum: 1, 2 or 5 × a power of ten at or above `value`. */
function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Claim-cycle throughput against concurrency (K on a log-2 axis) with its HTTP floor, as a hand-written SVG.
 * Returns null when the claim-cycle scenario has no figures.
 */
export function throughputChart(results: readonly ScenarioResult[], subtitle: string): string | null {
  const claim = results.find((r) => r.id === 'claim-cycle');
  if (!claim || claim.figures.length === 0) return null;
  const levels = (claim.parameters.concurrency as number[] | undefined) ?? [];
  const pick = (prefix: string) =>
    levels.flatMap((k) => {
      const value = claim.figures.find((f) => f.key === `${prefix}_k${k}`)?.value;
      return value === null || value === undefined ? [] : [{ x: k, y: value }];
    });
  const series: Series[] = [
    { name: 'claim cycles/s', color: '#1f6feb', points: pick('cycles_per_s') },
    { name: 'floor (3 heartbeats)', color: '#8b949e', points: pick('floor_cycles_per_s') },
  ];
  const yMax = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y))));
  const xs = levels.map((k) => Math.log2(k));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const sx = (k: number) => PAD.left + ((Math.log2(k) - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => PAD.top + plotH - (y / yMax) * plotH;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(
    `<text x="${PAD.left}" y="20" font-size="14" font-weight="bold">Claim cycles per second vs concurrent children</text>`,
  );
  parts.push(`<text x="${PAD.left}" y="34" fill="#57606a">${escapeXml(subtitle)}</text>`);
  for (let i = 0; i <= 5; i += 1) {
    const y = (yMax * i) / 5;
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#d0d7de"/>`,
    );
    parts.push(
      `<text x="${PAD.left - 8}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${Math.round(y).toLocaleString('en')}</text>`,
    );
  }
  for (const k of levels) {
    parts.push(
      `<line x1="${sx(k).toFixed(1)}" x2="${sx(k).toFixed(1)}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 5}" stroke="#57606a"/>`,
    );
    parts.push(`<text x="${sx(k).toFixed(1)}" y="${PAD.top + plotH + 20}" text-anchor="middle">K = ${k}</text>`);
  }
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle" fill="#57606a">concurrent simulated children (log scale)</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#57606a">cycles / s (median of runs)</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const path = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2.5"${i === 1 ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const p of s.points) {
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${s.color}"/>`);
      parts.push(
        `<text x="${(sx(p.x) + 6).toFixed(1)}" y="${(sy(p.y) - 8).toFixed(1)}" fill="${s.color}">${formatValue(p.y)}</text>`,
      );
    }
    const ly = PAD.top + 10 + i * 20;
    parts.push(
      `<line x1="${WIDTH - PAD.right + 15}" x2="${WIDTH - PAD.right + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${i === 1 ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(`<text x="${WIDTH - PAD.right + 46}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
