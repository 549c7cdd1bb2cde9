import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bodySha256 } from '../../../auth/request-signature.js';
import type { FeedResult } from '../../../store/allocations/completion-plan.js';

/**
 * The one place where what a child sends becomes what the child routes' schemas check (docs/protocol.md §3.2, issue 10).
 * The original Python child sends `Content-Type: application/json` on empty bodies, `null` for optional fields,
 * numbers as numeric strings, fields Cascade does not store (a result's `mp_name`, anything new) and a second per-feed result form
 * (`{feed_id, success: bool, …}`). Those are rewritten here, before validation; anything that is still not the
 * right type after that (an `allocation_id` that is a number, `articles` that is not an array) gets the usual 400.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Fields of an uploaded article Cascade stores; the rest is ignored (`ext` is kept when it is an object). */
const ARTICLE_FIELDS = [
  'id',
  'mp_id',
  'title',
  'url',
  'pic_url',
  'description',
  'content',
  'content_markdown',
  'publish_time',
  'ext',
] as const;
const FAILED_STATUSES = new Set(['failed', 'failure', 'error', 'timeout']);

/** `"1764236400"` → 1764236400; anything else stays as it is (and fails validation if it must be a number). */
function numeric(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return value;
}

/** Whole numbers for count and time fields: `12.0` and `"12"` are 12; a fraction (Python's time.time()) is cut. */
function wholeNumber(value: unknown): unknown {
  const n = numeric(value);
  return typeof n === 'number' && Number.isFinite(n) ? Math.trunc(n) : n;
}

/** Ids sent as numbers (a JSON number where Cascade keeps text) become their text. */
function idText(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
}

/** A copy without the keys whose value is `null`: for an optional field, null means absent. */
function withoutNulls(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== null));
}

function normaliseArticle(article: unknown): unknown {
  if (!isObject(article)) return article;
  const kept: Json = {};
  for (const field of ARTICLE_FIELDS)
    if (article[field] !== undefined && article[field] !== null) kept[field] = article[field];
  if (kept.id !== undefined) kept.id = idText(kept.id);
  if (kept.mp_id !== undefined) kept.mp_id = idText(kept.mp_id);
  if (kept.publish_time !== undefined) kept.publish_time = wholeNumber(kept.publish_time);
  if (!isObject(kept.ext)) delete kept.ext;
  return kept;
}

/**
 * Either result form as Cascade's one form, or undefined when the item names no feed. A missing count is 0; a
 * count that is not a number after conversion is dropped to 0 too: a completion is never refused for one item.
 */
export function normaliseFeedResult(item: unknown): FeedResult | undefined {
  if (!isObject(item)) return undefined;
  const feedId = idText(item.mp_id ?? item.feed_id);
  if (typeof feedId !== 'string' || feedId.length === 0) return undefined;
  const error = typeof item.error === 'string' && item.error.length > 0 ? item.error : undefined;
  const status = typeof item.status === 'string' ? item.status.toLowerCase() : undefined;
  const failed =
    item.success === false ||
    (status !== undefined && FAILED_STATUSES.has(status)) ||
    (item.success === undefined && status === undefined && error !== undefined);
  const count = (value: unknown) => {
    const n = wholeNumber(value);
    return typeof n === 'number' && n >= 0 ? n : undefined;
  };
  const result: FeedResult = {
    mp_id: feedId,
    status: failed ? 'failed' : 'success',
    article_count: count(item.article_count) ?? 0,
  };
  const newCount = count(item.new_article_count);
  if (newCount !== undefined) result.new_article_count = newCount;
  if (error !== undefined) result.error = error;
  // Cascade's child reports the feed's conditional-GET validators (null: the answer had none); keep them as sent.
  for (const key of ['etag', 'last_modified'] as const) {
    const value = item[key];
    if (typeof value === 'string' || value === null) result[key] = value;
  }
  if (failed && item.permanent === true) result.permanent = true;
  // Cascade's child: the feed's host answered 429/503 with Retry-After; the parent pauses the host fleet-wide.
  const retryAfter = wholeNumber(item.retry_after_seconds);
  if (failed && typeof retryAfter === 'number' && retryAfter >= 0) result.retry_after_seconds = retryAfter;
  if (Array.isArray(item.skipped) && item.skipped.length > 0) result.skipped = item.skipped as FeedResult['skipped'];
  // Cascade's child: what the feed declared about its rhythm (docs/refresh.md); checked by the schema as sent.
  if (isObject(item.refresh_hints)) result.refresh_hints = item.refresh_hints as FeedResult['refresh_hints'];
  return result;
}

/** What every child body goes through: top-level nulls dropped, counts as numbers, articles and results cleaned. */
export function normaliseChildBody(body: unknown): unknown {
  if (!isObject(body)) return body;
  const out = withoutNulls(body);
  if (out.article_count !== undefined) out.article_count = wholeNumber(out.article_count);
  if (out.current_tasks !== undefined) out.current_tasks = wholeNumber(out.current_tasks);
  if (out.attempt !== undefined) out.attempt = wholeNumber(out.attempt);
  if (Array.isArray(out.articles)) out.articles = out.articles.map(normaliseArticle);
  return out;
}

/** report-completion: as normaliseChildBody, plus every result item in the one form; items naming no feed are left out. */
export function normaliseCompletionBody(body: unknown): unknown {
  const out = normaliseChildBody(body);
  if (!isObject(out) || !Array.isArray(out.results)) return out;
  const results = out.results.map(normaliseFeedResult).filter((r): r is FeedResult => r !== undefined);
  return { ...out, results };
}

/** Route hook: rewrites the parsed body in place of the original, before schema validation. */
export function normalising(normalise: (body: unknown) => unknown) {
  return async (request: FastifyRequest): Promise<void> => {
    request.body = normalise(request.body);
  };
}

/**
 * In this plugin's scope, an empty body sent as JSON is `{}` (the original child sends `Content-Type:
 * application/json` with `Content-Length: 0`); any other body goes through Fastify's own JSON parser.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // A signed request's signature covers these bytes (src/auth/request-signature.ts).
    request.bodySha256 = bodySha256(body);
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim().length === 0) {
      done(null, {});
      return;
    }
    parseJson(request, text, done);
  });
}
