import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { CascadeError, notFound } from '../errors/cascade-error.js';
import type { FeedEntry } from '../domain/feed-entries.js';
import { importFeeds, type FeedImportOptions, type FeedImportReport } from './feed-import.js';
import { feedStatusPage, type FeedStatusView } from './feed-status.js';
import type { Database, FeedTable } from './tables.js';
import { chunk, iso, numberOrNull } from './time.js';
import { EnabledStatus } from '../domain/enabled-status.js';

/** A feed on the wire (docs/protocol.md §2): `sync_time`/`update_time` stay Unix seconds, row times become ISO. */
export type FeedView = {
  id: string;
  mp_name: string;
  mp_cover: string;
  mp_intro: string;
  faker_id: string;
  url: string;
  status: number;
  sync_time: number | null;
  update_time: number | null;
  article_count: number;
  created_at: string | null;
  updated_at: string | null;
};

/**
 * A feed as the management API shows it: the wire feed plus its learned rhythm (docs/refresh.md). `next_due_at`
 * null: due now (never fetched since the rhythm was learned); `refresh_interval_seconds` null: not learned yet.
 */
export type FeedAdminView = FeedView & {
  next_due_at: string | null;
  refresh_interval_seconds: number | null;
  refresh_failures: number;
  refresh_hint_seconds: number | null;
};

/** A feed as the store hands it out: `status` as `enabled`, numbers as numbers, row times in epoch ms. */
export type FeedRecord = {
  id: string;
  mpName: string;
  mpCover: string;
  mpIntro: string;
  fakerId: string;
  url: string;
  enabled: boolean;
  /** Unix seconds, as the original system keeps them. */
  syncTime: number | null;
  updateTime: number | null;
  /** Conditional-GET validators of the last accepted successful completion. */
  etag: string | null;
  lastModified: string | null;
  /** The node whose accepted completion last succeeded for the feed (placement prefers it). */
  lastNodeId: string | null;
  /** The learned rhythm (docs/refresh.md): null = due now / not learned yet. */
  nextDueAtMs: number | null;
  refreshIntervalSeconds: number | null;
  refreshFailures: number;
  refreshHintSeconds: number | null;
  articleCount: number;
  createdAtMs: number;
  updatedAtMs: number;
};

/** The only place a feeds row is read (feed-import and feed-rhythm write rows, and read only what they write). */
function toFeedRecord(row: FeedTable): FeedRecord {
  return {
    id: row.id,
    mpName: row.mp_name,
    mpCover: row.mp_cover,
    mpIntro: row.mp_intro,
    fakerId: row.faker_id,
    url: row.url,
    enabled: Number(row.status) === EnabledStatus.enabled,
    syncTime: numberOrNull(row.sync_time),
    updateTime: numberOrNull(row.update_time),
    etag: row.etag,
    lastModified: row.last_modified,
    lastNodeId: row.last_node_id,
    nextDueAtMs: numberOrNull(row.next_due_at),
    refreshIntervalSeconds: numberOrNull(row.refresh_interval_seconds),
    refreshFailures: Number(row.refresh_failures ?? 0),
    refreshHintSeconds: numberOrNull(row.refresh_hint_seconds),
    articleCount: Number(row.article_count),
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

function toFeedAdminView(feed: FeedRecord): FeedAdminView {
  return {
    ...toFeedView(feed),
    next_due_at: iso(feed.nextDueAtMs),
    refresh_interval_seconds: feed.refreshIntervalSeconds,
    refresh_failures: feed.refreshFailures,
    refresh_hint_seconds: feed.refreshHintSeconds,
  };
}

function toFeedView(feed: FeedRecord): FeedView {
  return {
    id: feed.id,
    mp_name: feed.mpName,
    mp_cover: feed.mpCover,
    mp_intro: feed.mpIntro,
    faker_id: feed.fakerId,
    url: feed.url,
    status: feed.enabled ? EnabledStatus.enabled : EnabledStatus.disabled,
    sync_time: feed.syncTime,
    update_time: feed.updateTime,
    article_count: feed.articleCount,
    created_at: iso(feed.createdAtMs),
    updated_at: iso(feed.updatedAtMs),
  };
}

type FeedFields = {
  mp_name?: string | undefined;
  mp_cover?: string | undefined;
  mp_intro?: string | undefined;
  faker_id?: string | undefined;
  url?: string | undefined;
  status?: number | undefined;
  sync_time?: number | null | undefined;
  update_time?: number | null | undefined;
};

export type FeedInput = FeedFields & { id?: string | undefined };
export type FeedPatch = FeedFields;
export type FeedFilter = { status?: number | undefined; search?: string | undefined };

/** LIKE patterns use `!` as the escape character: standard SQL that SQLite, PostgreSQL and MySQL all accept. */
export function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export class FeedsStore {
  constructor(
    private readonly db: Kysely<Database>,
    /** Largest IN list per statement (the dialect's bound-parameter limit, with headroom). */
    private readonly maxParameters: number,
  ) {}

  view(feed: FeedRecord): FeedAdminView {
    return toFeedAdminView(feed);
  }

  /** Feed freshness, stalest first, one page (see feed-status.ts). */
  statusPage(limit: number, offset: number, nowMs = Date.now()): Promise<{ list: FeedStatusView[]; total: number }> {
    return feedStatusPage(this.db, limit, offset, nowMs);
  }

  /** Creates a feed with the caller's id (the original's `MP_WXS_…`) or a generated one; a taken id is 409. */
  async create(input: FeedInput): Promise<FeedAdminView> {
    const now = Date.now();
    const row: FeedTable = {
      id: input.id ?? `feed_${randomUUID()}`,
      mp_name: input.mp_name ?? '',
      mp_cover: input.mp_cover ?? '',
      mp_intro: input.mp_intro ?? '',
      faker_id: input.faker_id ?? '',
      url: input.url ?? '',
      status: input.status ?? EnabledStatus.enabled,
      sync_time: input.sync_time ?? null,
      update_time: input.update_time ?? null,
      etag: null,
      last_modified: null,
      last_node_id: null,
      next_due_at: null,
      refresh_interval_seconds: null,
      refresh_failures: 0,
      refresh_hint_seconds: null,
      article_count: 0,
      created_at: now,
      updated_at: now,
    };
    const conflict = () =>
      new CascadeError('CONFLICT', `A feed with id '${row.id}' already exists; update it or pick another id.`);
    if (await this.find(row.id)) throw conflict();
    try {
      await this.db.insertInto('feeds').values(row).execute();
    } catch (error) {
      // A concurrent create of the same id lost the race on the primary key.
      if (await this.find(row.id)) throw conflict();
      throw error;
    }
    return toFeedAdminView(toFeedRecord(row));
  }

  /** Creates the feeds of a list that are not stored yet, all or nothing (store/feed-import.ts). */
  async importMany(entries: readonly FeedEntry[], options: FeedImportOptions = {}): Promise<FeedImportReport> {
    return importFeeds(this.db, this.maxParameters, entries, options);
  }

  async find(id: string): Promise<FeedRecord | undefined> {
    const row = await this.findRow(id);
    return row && toFeedRecord(row);
  }

  async get(id: string): Promise<FeedRecord> {
    return toFeedRecord(await this.getRow(id));
  }

  private async findRow(id: string): Promise<FeedTable | undefined> {
    return this.db.selectFrom('feeds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  private async getRow(id: string): Promise<FeedTable> {
    const row = await this.findRow(id);
    if (!row) throw notFound('Feed', id);
    return row;
  }

  /** The feeds among `ids` that exist, in no particular order; unknown ids are simply absent. */
  async getMany(ids: readonly string[]): Promise<FeedRecord[]> {
    const unique = [...new Set(ids)];
    const feeds: FeedRecord[] = [];
    for (const part of chunk(unique, this.maxParameters)) {
      const rows = await this.db.selectFrom('feeds').selectAll().where('id', 'in', part).execute();
      feeds.push(...rows.map(toFeedRecord));
    }
    return feeds;
  }

  /** The ids among `ids` that name no feed, in the order given. */
  async unknownIds(ids: readonly string[]): Promise<string[]> {
    const known = new Set((await this.getMany(ids)).map((feed) => feed.id));
    return [...new Set(ids)].filter((id) => !known.has(id));
  }

  /** Every enabled feed, unpaged: what the original child's sync expects (`GET /api/v1/wx/cascade/feeds`). */
  async listEnabled(): Promise<FeedView[]> {
    const rows = await this.db
      .selectFrom('feeds')
      .selectAll()
      .where('status', '=', EnabledStatus.enabled)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => toFeedView(toFeedRecord(row)));
  }

  /** The management API's page of feeds, with each feed's learned rhythm. */
  async list(filter: FeedFilter, limit: number, offset: number): Promise<{ list: FeedAdminView[]; total: number }> {
    return this.page(filter, limit, offset, toFeedAdminView);
  }

  /** A child's page of enabled feeds (`GET /api/v1/cascade/feeds`): the wire shape, as the original prefix answers. */
  async listEnabledPage(limit: number, offset: number): Promise<{ list: FeedView[]; total: number }> {
    return this.page({ status: EnabledStatus.enabled }, limit, offset, toFeedView);
  }

  private async page<V>(
    filter: FeedFilter,
    limit: number,
    offset: number,
    toView: (feed: FeedRecord) => V,
  ): Promise<{ list: V[]; total: number }> {
    let query = this.db.selectFrom('feeds');
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.search !== undefined && filter.search !== '') {
      const pattern = likeContains(filter.search);
      query = query.where(sql<boolean>`lower(mp_name) like ${pattern} escape '!'`);
    }
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map((row) => toView(toFeedRecord(row))), total: Number(total.n) };
  }

  async update(id: string, patch: FeedPatch): Promise<FeedAdminView> {
    const current = await this.getRow(id);
    const values: Partial<FeedTable> = { updated_at: Date.now() };
    for (const key of [
      'mp_name',
      'mp_cover',
      'mp_intro',
      'faker_id',
      'url',
      'status',
      'sync_time',
      'update_time',
    ] as const) {
      if (patch[key] !== undefined) (values as Record<string, unknown>)[key] = patch[key];
    }
    await this.db.updateTable('feeds').set(values).where('id', '=', id).execute();
    return toFeedAdminView(toFeedRecord({ ...current, ...values }));
  }

  async remove(id: string): Promise<void> {
    const result = await this.db.deleteFrom('feeds').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('Feed', id);
  }
}
