/** One sample in Prometheus text: `name` with exactly `labels` (none by default), or undefined. */
function sampleIn(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const series = pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** One sample from a parent's Prometheus endpoint, or undefined when it has none. */
export async function scrapeSample(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  return sampleIn(await scrape(url), name, labels);
}

type ClaimRechecks = { wake: number; timer: number; abort: number };

/** `cascade_claim_rechecks_total` by cause, from one scrape: what made this parent's waiting claims look again. */
export async function claimRechecks(url: string): Promise<ClaimRechecks> {
  const text = await scrape(url);
  const read = (cause: keyof ClaimRechecks) => {
    const value = sampleIn(text, 'cascade_claim_rechecks_total', { cause });
    // The parent exports every cause from the start; a missing one must not read as "never happened".
    if (value === undefined) throw new Error(`no cascade_claim_rechecks_total{cause="${cause}"} at ${url}/metrics`);
    return value;
  };
  return { wake: read('wake'), timer: read('timer'), abort: read('abort') };
}
