import {
  DERIVED_ID_HASH_LENGTHS,
  deriveFeedId,
  normaliseFeedUrl,
  type EntryVerdict,
  type ScreenedEntry,
} from './feed-entries.js';

/** A stored feed as far as an import cares: its id and the URL it fetches. */
export type KnownFeed = { id: string; url: string };

/** What an import did (or, on a dry run, would do) with one entry of the list, in the list's order. */
export type ImportOutcome =
  | { outcome: 'created'; id: string; url: string; name: string }
  /** Already stored: under the id the entry names (`match: 'id'`) or under the entry's URL (`match: 'url'`). Left as it is. */
  | { outcome: 'present'; id: string; url: string; match: 'id' | 'url'; note?: string }
  | { outcome: 'duplicate'; of: number; reason: string }
  | { outcome: 'invalid'; field: 'url' | 'id' | 'name'; reason: string; of?: number };

/** Which stored feeds an import must know about: the ids entries name or may derive, and their URLs. */
export function lookupKeys(verdicts: readonly EntryVerdict[]): { ids: string[]; urls: string[] } {
  const ids = new Set<string>();
  const urls = new Set<string>();
  for (const verdict of verdicts) {
    if (verdict.kind !== 'ok') continue;
    const { entry } = verdict;
    urls.add(entry.url);
    // A feed created through the API keeps its URL as typed: `https://example.com` is stored without the slash
    // that normalising adds.
    if (entry.url.endsWith('/') && new URL(entry.url).pathname === '/' && !entry.url.includes('?'))
      urls.add(entry.url.slice(0, -1));
    if (entry.id !== undefined) ids.add(entry.id);
    else for (const length of DERIVED_ID_HASH_LENGTHS) ids.add(deriveFeedId(entry.url, length));
  }
  return { ids: [...ids], urls: [...urls] };
}

/**
 * Decides each entry against what is stored: an entry whose id or URL is already stored is `present` and changes
 * nothing, so importing a list twice creates nothing the second time; the rest are `created`, those without an id
 * under the first derived id (deriveFeedId) that no stored feed and no other entry of the list holds.
 */
export function planFeedImport(verdicts: readonly EntryVerdict[], stored: readonly KnownFeed[]): ImportOutcome[] {
  const storedById = new Map(stored.map((feed) => [feed.id, feed]));
  const storedByUrl = new Map(stored.map((feed) => [comparableUrl(feed.url), feed]));
  // Ids the list names itself are reserved first, so a derived id never takes one of them.
  const claimed = new Set(verdicts.flatMap((v) => (v.kind === 'ok' && v.entry.id !== undefined ? [v.entry.id] : [])));
  return verdicts.map((verdict): ImportOutcome => {
    if (verdict.kind === 'duplicate') return { outcome: 'duplicate', of: verdict.of, reason: verdict.reason };
    if (verdict.kind === 'invalid')
      return {
        outcome: 'invalid',
        field: verdict.field,
        reason: verdict.reason,
        ...(verdict.of === undefined ? {} : { of: verdict.of }),
      };
    return decide(verdict.entry, storedById, storedByUrl, claimed);
  });
}

function decide(
  entry: ScreenedEntry,
  storedById: Map<string, KnownFeed>,
  storedByUrl: Map<string, KnownFeed>,
  claimed: Set<string>,
): ImportOutcome {
  if (entry.id !== undefined) {
    const sameId = storedById.get(entry.id);
    if (sameId) {
      const note = sameId.url === entry.url ? undefined : `stored with another URL (${sameId.url}); left unchanged`;
      return { outcome: 'present', id: sameId.id, url: sameId.url, match: 'id', ...(note ? { note } : {}) };
    }
  }
  const sameUrl = storedByUrl.get(entry.url);
  if (sameUrl) {
    const note =
      entry.id === undefined || entry.id === sameUrl.id
        ? undefined
        : `stored under id '${sameUrl.id}', not '${entry.id}'`;
    return { outcome: 'present', id: sameUrl.id, url: sameUrl.url, match: 'url', ...(note ? { note } : {}) };
  }
  if (entry.id !== undefined) return { outcome: 'created', id: entry.id, url: entry.url, name: entry.name };
  for (const length of DERIVED_ID_HASH_LENGTHS) {
    const id = deriveFeedId(entry.url, length);
    if (storedById.has(id) || claimed.has(id)) continue;
    claimed.add(id);
    return { outcome: 'created', id, url: entry.url, name: entry.name };
  }
  return {
    outcome: 'invalid',
    field: 'id',
    reason: 'every id derived from this URL is taken by another feed; give the entry an id',
  };
}

/** A stored URL in the form entries are compared in; one that does not normalise is compared as it is. */
function comparableUrl(url: string): string {
  const normalised = normaliseFeedUrl(url);
  return 'url' in normalised ? normalised.url : url;
}
