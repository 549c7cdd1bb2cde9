import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { CascadeError, notFound } from '../errors/cascade-error.js';
import type { FeedEntry } from '../domain/feed-entries.js';
import { importFeeds, type FeedImportOptions, type FeedImportReport } from './feed-import.js';
import { feedStatusPage, type FeedStatusView } from './feed-status.js';
import type { Database, FeedTable } from './tables.js';
import { chunk, iso } from './time.js';
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

function toFeedAdminView(row: FeedTable): FeedAdminView {
  return {
    ...toFeedView(row),
    next_due_at: iso(row.next_due_at),
    refresh_interval_seconds: row.refresh_interval_seconds === null ? null : Number(row.refresh_interval_seconds),
    refresh_failures: Number(row.refresh_failures ?? 0),
    refresh_hint_seconds: row.refresh_hint_seconds === null ? null : Number(row.refresh_hint_seconds),
  };
}

function toFeedView(row: FeedTable): FeedView {
  return {
    id: row.id,
    mp_name: row.mp_name,
    mp_cover: row.mp_cover,
    mp_intro: row.mp_intro,
    faker_id: row.faker_id,
    url: row.url,
    status: Number(row.status),
    sync_time: row.sync_time === null ? null : Number(row.sync_time),
    update_time: row.update_time === null ? null : Number(row.update_time),
    article_count: Number(row.article_count),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
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

  view(row: FeedTable): FeedAdminView {
    return toFeedAdminView(row);
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
      status: input.status ?? 1,
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
    return toFeedAdminView(row);
  }

  /** Creates the feeds of a list that are not stored yet, all or nothing (store/feed-import.ts). */
  async importMany(entries: readonly FeedEntry[], options: FeedImportOptions = {}): Promise<FeedImportReport> {
    return importFeeds(this.db, this.maxParameters, entries, options);
  }

  async find(id: string): Promise<FeedTable | undefined> {
    return this.db.selectFrom('feeds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string): Promise<FeedTable> {
    const row = await this.find(id);
    if (!row) throw notFound('Feed', id);
    return row;
  }

  /** The feeds among `ids` that exist, in no particular order; unknown ids are simply absent. */
  async getMany(ids: readonly string[]): Promise<FeedTable[]> {
    const unique = [...new Set(ids)];
    const rows: FeedTable[] = [];
    for (const part of chunk(unique, this.maxParameters)) {
      rows.push(...(await this.db.selectFrom('feeds').selectAll().where('id', 'in', part).execute()));
    }
    return rows;
  }

  /** The ids among `ids` that name no feed, in the order given. */
  async unknownIds(ids: readonly string[]): Promise<string[]> {
    const known = new Set((await this.getMany(ids)).map((row) => row.id));
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
    return rows.map(toFeedView);
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
    toView: (row: FeedTable) => V,
  ): Promise<{ list: V[]; total: number }> {
    let query = this.db.selectFrom('feeds');
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.search !== undefined && filter.search !== '') {
      const pattern = likeContains(filter.search);
      query = query.where(sql<boolean>`lower(mp_name) like ${pattern} escape '!'`);
    }
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { list: rows.map(toView), total: Number(total.n) };
  }

  async update(id: string, patch: FeedPatch): Promise<FeedAdminView> {
    const current = await this.get(id);
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
    return toFeedAdminView({ ...current, ...values });
  }

  async remove(id: string): Promise<void> {
    const result = await this.db.deleteFrom('feeds').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('Feed', id);
  }
}
