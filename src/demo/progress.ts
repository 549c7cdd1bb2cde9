/** The allocation fields the demo reads from GET /allocations. */
export type AllocationRow = {
  id: string;
  node_id: string | null;
  node_name: string | null;
  status: string;
  article_count: number;
  error_message: string | null;
  claimed_at: string | null;
  completed_at: string | null;
};

const FINAL = new Set(['completed', 'failed', 'timeout', 'cancelled']);

export type Counts = {
  total: number;
  final: number;
  completed: number;
  failed: number;
  running: number;
  pending: number;
};

export function countStatuses(rows: readonly AllocationRow[]): Counts {
  const counts: Counts = { total: rows.length, final: 0, completed: 0, failed: 0, running: 0, pending: 0 };
  for (const row of rows) {
    if (FINAL.has(row.status)) counts.final++;
    if (row.status === 'completed') counts.completed++;
    else if (FINAL.has(row.status)) counts.failed++;
    else if (row.status === 'pending') counts.pending++;
    else counts.running++;
  }
  return counts;
}

/** `[##########----------]  12/23 done · 10 completed · 2 failed · 4 running · 7 pending` */
export function progressLine(counts: Counts, width = 30): string {
  const filled = counts.total === 0 ? 0 : Math.round((counts.final / counts.total) * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `${bar} ${String(counts.final).padStart(3)}/${counts.total} done · ${counts.completed} completed · ${counts.failed} failed · ${counts.running} running · ${counts.pending} pending`;
}

export type NodeSummary = { node: string; completed: number; failed: number; articles: number; elapsedSeconds: number };

/** Per node: allocations completed and failed, articles collected, and time from its first claim to its last finish. */
export function summarizeByNode(rows: readonly AllocationRow[]): NodeSummary[] {
  const byNode = new Map<string, { rows: AllocationRow[] }>();
  for (const row of rows) {
    const key = row.node_name ?? '(unassigned)';
    const entry = byNode.get(key) ?? { rows: [] };
    entry.rows.push(row);
    byNode.set(key, entry);
  }
  return [...byNode.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([node, { rows: nodeRows }]) => {
      const claimed = nodeRows.map((r) => Date.parse(r.claimed_at ?? '')).filter(Number.isFinite);
      const finished = nodeRows.map((r) => Date.parse(r.completed_at ?? '')).filter(Number.isFinite);
      const elapsedMs = claimed.length > 0 && finished.length > 0 ? Math.max(...finished) - Math.min(...claimed) : 0;
      return {
        node,
        completed: nodeRows.filter((r) => r.status === 'completed').length,
        failed: nodeRows.filter((r) => FINAL.has(r.status) && r.status !== 'completed').length,
        articles: nodeRows.reduce((sum, r) => sum + Number(r.article_count ?? 0), 0),
        elapsedSeconds: Math.max(0, elapsedMs) / 1000,
      };
    });
}

export function formatSummaryTable(summaries: readonly NodeSummary[]): string {
  const headers = ['node', 'completed', 'failed', 'articles', 'elapsed'];
  const rows = summaries.map((s) => [
    s.node,
    String(s.completed),
    String(s.failed),
    String(s.articles),
    `${s.elapsedSeconds.toFixed(1)} s`,
  ]);
  const total = summaries.reduce(
    (acc, s) => ({
      completed: acc.completed + s.completed,
      failed: acc.failed + s.failed,
      articles: acc.articles + s.articles,
    }),
    { completed: 0, failed: 0, articles: 0 },
  );
  rows.push(['total', String(total.completed), String(total.failed), String(total.articles), '']);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
