/**
 * The crawl scenario's feed corpus: hosts with rate limits and feeds whose articles appear on simulated schedules
 * (hourly, daily, weekly, dead). Nothing here touches the network: a "fetch" is a method call answered from this
 * model at a simulated instant, as a real origin would answer it (200 with the feed's items, 304 when the
 * conditional validators match, 429 with Retry-After when the host's rate limit is exceeded). Every host is its own
 * registrable domain (`host-07.test`), since per-host politeness counts hosts by registrable domain.
 */

/** mulberry32: a small seeded PRNG, so the same seed gives the same corpus and the same answers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rhythm = 'hourly' | 'daily' | 'weekly' | 'dead';

/** Mean time between two articles of a feed of each rhythm (dead feeds publish nothing). */
const RHYTHM_MEAN_MS: Readonly<Record<Rhythm, number>> = {
  hourly: 3_600_000,
  daily: 86_400_000,
  weekly: 7 * 86_400_000,
  dead: Number.POSITIVE_INFINITY,
};

/** What a feed says about its own rhythm, as a real one might (`<ttl>`, `sy:updatePeriod`, `Cache-Control: max-age`). */
export type FeedHints = { ttlMinutes?: number; updatePeriod?: 'hourly' | 'daily' | 'weekly'; maxAgeSeconds?: number };

export type CorpusArticle = { id: string; feedIndex: number; publishedAt: number };

export type CorpusFeed = {
  index: number;
  host: number;
  url: string;
  rhythm: Rhythm;
  hints: FeedHints;
  /** Every article, oldest first: some before the window (the feed's history), the rest inside it. */
  articles: CorpusArticle[];
};

export type CorpusHost = {
  index: number;
  name: string;
  /** At most `limit` requests in any `windowMs`; the next one is answered 429 with Retry-After. */
  limit: number;
  windowMs: number;
};

export type CorpusSize = { feeds: number; hosts: number; hours: number };

/** How many of the newest items a feed document carries (older ones fall off, as in a real RSS feed). */
const ITEMS_PER_DOCUMENT = 20;

/** Share of feeds of each rhythm; the rest are dead. */
const RHYTHM_SHARES: ReadonlyArray<[Rhythm, number]> = [
  ['hourly', 0.2],
  ['daily', 0.35],
  ['weekly', 0.3],
  ['dead', 0.15],
];

/** Every fifth host is strict (10 requests a minute); the others allow 30 a minute. */
const STRICT_HOST_EVERY = 5;
export const HOST_WINDOW_MS = 60_000;
const STRICT_HOST_LIMIT = 10;
const NORMAL_HOST_LIMIT = 30;

export class Corpus {
  readonly hosts: CorpusHost[];
  readonly feeds: CorpusFeed[];
  readonly startMs: number;
  readonly endMs: number;
  /** Request instants per host inside the current window, for the rate limit. */
  readonly #recent: number[][];

  constructor(seed: number, size: CorpusSize, startMs: number) {
    const random = seededRandom(seed);
    this.startMs = startMs;
    this.endMs = startMs + size.hours * 3_600_000;
    this.hosts = Array.from({ length: size.hosts }, (_, i) => ({
      index: i,
      name: `host-${String(i + 1).padStart(2, '0')}.test`,
      limit: i % STRICT_HOST_EVERY === STRICT_HOST_EVERY - 1 ? STRICT_HOST_LIMIT : NORMAL_HOST_LIMIT,
      windowMs: HOST_WINDOW_MS,
    }));
    this.#recent = this.hosts.map(() => []);
    this.feeds = Array.from({ length: size.feeds }, (_, i) => {
      const host = i % size.hosts;
      const rhythm = pickRhythm(random());
      const feed: CorpusFeed = {
        index: i,
        host,
        url: `http://${this.hosts[host]?.name}/feeds/${i + 1}.xml`,
        rhythm,
        hints: pickHints(rhythm, random()),
        articles: [],
      };
      feed.articles = publications(feed, random, startMs, this.endMs);
      return feed;
    });
  }

  /** Articles published inside the simulated window (the ones whose collection delay is measured). */
  publishedInWindow(): CorpusArticle[] {
    return this.feeds.flatMap((f) =>
      f.articles.filter((a) => a.publishedAt >= this.startMs && a.publishedAt <= this.endMs),
    );
  }

  /**
   * One request to a feed at `nowMs`, with the validators the fetcher sends. Requests the host answered count
   * against its limit; refused ones do not (the lenient kind of limiter: the baseline is not punished twice).
   */
  fetch(feedIndex: number, validators: { etag?: string | null | undefined }, nowMs: number): FetchAnswer {
    const feed = this.feeds[feedIndex];
    if (!feed) throw new Error(`no feed ${feedIndex} in the corpus`);
    const host = this.hosts[feed.host] as CorpusHost;
    const recent = (this.#recent[feed.host] as number[]).filter((t) => t > nowMs - host.windowMs);
    this.#recent[feed.host] = recent;
    if (recent.length >= host.limit) {
      // Retry-After in whole seconds, until the oldest request in the window leaves it (at least 1 s).
      const retryAfterSeconds = Math.max(1, Math.ceil(((recent[0] as number) + host.windowMs - nowMs) / 1000));
      return { status: 429, retryAfterSeconds };
    }
    recent.push(nowMs);
    const visible = feed.articles.filter((a) => a.publishedAt <= nowMs);
    const etag = `"${feed.index}-${visible.length}"`;
    if (validators.etag === etag) return { status: 304, etag, hints: feed.hints };
    return { status: 200, etag, hints: feed.hints, articles: visible.slice(-ITEMS_PER_DOCUMENT) };
  }
}

export type FetchAnswer =
  | { status: 200; etag: string; hints: FeedHints; articles: CorpusArticle[] }
  | { status: 304; etag: string; hints: FeedHints }
  | { status: 429; retryAfterSeconds: number };

function pickRhythm(r: number): Rhythm {
  let acc = 0;
  for (const [rhythm, share] of RHYTHM_SHARES) {
    acc += share;
    if (r < acc) return rhythm;
  }
  return 'dead';
}

/** About half the feeds say something about their rhythm, in one of the three ways feeds do. */
function pickHints(rhythm: Rhythm, r: number): FeedHints {
  if (rhythm === 'dead' || r >= 0.5) return {};
  if (r < 0.2) return { ttlMinutes: rhythm === 'hourly' ? 60 : rhythm === 'daily' ? 1440 : 10080 };
  if (r < 0.35) return { updatePeriod: rhythm };
  return { maxAgeSeconds: rhythm === 'hourly' ? 1800 : 3600 };
}

/**
 * Publication instants: exponential gaps at the rhythm's mean, from a history that reaches back before the window
 * (ten items' worth) through the window's end. Dead feeds have old items only (the last one 90–400 days ago).
 */
function publications(feed: CorpusFeed, random: () => number, startMs: number, endMs: number): CorpusArticle[] {
  const id = (n: number) => `feed-${feed.index + 1}-item-${n}`;
  if (feed.rhythm === 'dead') {
    const last = startMs - (90 + random() * 310) * 86_400_000;
    return Array.from({ length: 5 }, (_, n) => ({
      id: id(n + 1),
      feedIndex: feed.index,
      publishedAt: Math.round(last - (4 - n) * 30 * 86_400_000),
    }));
  }
  const mean = RHYTHM_MEAN_MS[feed.rhythm];
  const gap = () => -Math.log(1 - random()) * mean;
  const instants: number[] = [];
  let t = startMs - 10 * mean * (0.5 + random());
  for (;;) {
    t += gap();
    if (t > endMs) break;
    instants.push(Math.round(t));
  }
  return instants.map((publishedAt, n) => ({ id: id(n + 1), feedIndex: feed.index, publishedAt }));
}
