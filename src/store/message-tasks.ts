import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isSealed, type SecretBox } from '../auth/secret-box.js';
import { randomToken } from '../auth/secrets.js';
import { templateProblem } from '../delivery/template.js';
import { cronExpressionProblem } from '../domain/cron-expression.js';
import { CascadeError, notFound, validationFailed, type ErrorDetail } from '../errors/cascade-error.js';
import type { FeedsStore } from './feeds.js';
import type { Database, MessageTaskTable } from './tables.js';
import { iso, parseJson } from './time.js';
import { EnabledStatus } from '../domain/enabled-status.js';
import { MessageType } from '../domain/message-type.js';

/** One entry of `mps_id`: a feed id plus whatever else the UI keeps there (such as `mp_name`). */
export type FeedRef = { id: string; [extra: string]: unknown };

/** A message task as the store hands it out: JSON columns parsed, `status` as `enabled`, times in epoch ms. */
export type MessageTaskRecord = {
  id: string;
  name: string;
  messageType: MessageType;
  messageTemplate: string;
  webHookUrl: string;
  /** HTTP headers the child sends when fetching (and a webhook task sends with its message). */
  headers: Record<string, string>;
  cookies: string;
  /** `mps_id` as stored: the feed references with whatever else the UI keeps in them. */
  feedRefs: FeedRef[];
  /** The ids of `feedRefs`, in their order (duplicates kept). */
  feedIds: string[];
  cronExp: string;
  enabled: boolean;
  /** Sealed ('' for none); `MessageTasksStore.webhookSecret` opens it. */
  webhookSecret: string;
  createdAtMs: number;
  updatedAtMs: number;
};

/** The string ids of `mps_id`, in order; anything else a hand-edited row may hold there is skipped. */
function feedIdsOf(refs: unknown): string[] {
  if (!Array.isArray(refs)) return [];
  return refs.flatMap((ref: { id?: unknown } | null) => (typeof ref?.id === 'string' && ref.id !== '' ? [ref.id] : []));
}

/** The only place a message_tasks row is read (the original wire shape, which keeps the JSON text, aside). */
function toMessageTaskRecord(row: MessageTaskTable): MessageTaskRecord {
  const feedRefs = parseJson<FeedRef[]>(row.mps_id, []);
  return {
    id: row.id,
    name: row.name,
    messageType: Number(row.message_type) === MessageType.webhook ? MessageType.webhook : MessageType.message,
    messageTemplate: row.message_template,
    webHookUrl: row.web_hook_url,
    headers: parseJson<Record<string, string>>(row.headers, {}),
    cookies: row.cookies,
    feedRefs,
    feedIds: feedIdsOf(feedRefs),
    cronExp: row.cron_exp,
    enabled: Number(row.status) === EnabledStatus.enabled,
    webhookSecret: row.webhook_secret,
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

/** What a child may see of a task: never its `headers` or `cookies` (docs/protocol.md §2). */
export type MessageTaskPublicView = {
  id: string;
  name: string;
  message_type: number;
  message_template: string;
  web_hook_url: string;
  mps_id: FeedRef[];
  cron_exp: string;
  status: number;
  created_at: string | null;
  updated_at: string | null;
};

/**
 * The management view, for users: includes `headers` and `cookies`. The webhook secret is shown once, in the answer
 * that set or generated it; afterwards only whether one is set.
 */
export type MessageTaskView = MessageTaskPublicView & {
  headers: Record<string, string>;
  cookies: string;
  webhook_secret_set: boolean;
  webhook_secret?: string;
};

export function toMessageTaskPublicView(task: MessageTaskRecord): MessageTaskPublicView {
  return {
    id: task.id,
    name: task.name,
    message_type: task.messageType,
    message_template: task.messageTemplate,
    web_hook_url: task.webHookUrl,
    mps_id: task.feedRefs,
    cron_exp: task.cronExp,
    status: task.enabled ? EnabledStatus.enabled : EnabledStatus.disabled,
    created_at: iso(task.createdAtMs),
    updated_at: iso(task.updatedAtMs),
  };
}

/** A task as the original system's child sync reads it: `mps_id`, `headers` and `cookies` as JSON text, `""` when empty. */
export type MessageTaskOriginalView = Omit<MessageTaskPublicView, 'mps_id'> & {
  mps_id: string;
  headers: string;
  cookies: string;
};

/** Built from the row, not the record: the original shape sends the stored JSON text as it is. */
function toMessageTaskOriginalView(row: MessageTaskTable): MessageTaskOriginalView {
  const emptyAsBlank = (text: string, empty: string) => (text.trim() === empty ? '' : text);
  return {
    ...toMessageTaskPublicView(toMessageTaskRecord(row)),
    mps_id: emptyAsBlank(row.mps_id, '[]'),
    headers: emptyAsBlank(row.headers, '{}'),
    cookies: row.cookies,
  };
}

function toMessageTaskView(task: MessageTaskRecord): MessageTaskView {
  return {
    ...toMessageTaskPublicView(task),
    headers: task.headers,
    cookies: task.cookies,
    webhook_secret_set: task.webhookSecret !== '',
  };
}

/** The answer that set or generated a secret shows it once, in plain text; the row keeps it sealed. */
function withSecretShown(row: MessageTaskTable, plainSecret: string): MessageTaskView {
  const view = toMessageTaskView(toMessageTaskRecord(row));
  return plainSecret === '' ? view : { ...view, webhook_secret: plainSecret };
}

const secretContext = (taskId: string): string => `webhook_secret:${taskId}`;

type TaskFields = {
  message_type?: number | undefined;
  message_template?: string | undefined;
  web_hook_url?: string | undefined;
  headers?: Record<string, string> | undefined;
  cookies?: string | undefined;
  mps_id?: FeedRef[] | undefined;
  cron_exp?: string | undefined;
  status?: number | undefined;
  webhook_secret?: string | undefined;
};

export type MessageTaskInput = TaskFields & { name: string };
export type MessageTaskPatch = TaskFields & { name?: string | undefined };
export type MessageTaskFilter = { status?: number | undefined };

export class MessageTasksStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly feeds: FeedsStore,
    /** Resolved on first use, after migrations (the key may be kept in the store's settings). */
    private readonly secretBox: () => Promise<SecretBox>,
  ) {}

  /** The stored form of a webhook secret: sealed to the task's id, '' for none. */
  private async sealSecret(taskId: string, plain: string): Promise<string> {
    return plain === '' ? '' : (await this.secretBox()).seal(plain, secretContext(taskId));
  }

  /**
   * The task's webhook secret in plain text, for signing what the parent sends; '' when it has none. A value written
   * before migration 012 and not sealed yet is used as it is. One that does not open (the secrets key changed, or
   * the value was copied from another task) is an error: sending unsigned would be worse than not sending.
   */
  async webhookSecret(task: Pick<MessageTaskRecord, 'id' | 'webhookSecret'>): Promise<string> {
    if (task.webhookSecret === '' || !isSealed(task.webhookSecret)) return task.webhookSecret;
    const plain = (await this.secretBox()).open(task.webhookSecret, secretContext(task.id));
    if (plain === undefined) {
      throw new CascadeError(
        'UNAVAILABLE',
        `The webhook secret of task '${task.id}' cannot be opened: the secrets key changed since it was set. Set the secret again (PUT webhook_secret).`,
      );
    }
    return plain;
  }

  /** Seals webhook secrets stored in plain text before migration 012; returns how many it sealed. Safe to repeat. */
  async sealLegacySecrets(): Promise<number> {
    const rows = await this.db
      .selectFrom('message_tasks')
      .select(['id', 'webhook_secret'])
      .where('webhook_secret', '!=', '')
      .execute();
    let sealed = 0;
    for (const row of rows.filter((r) => !isSealed(r.webhook_secret))) {
      // Guarded on the old value: a concurrent update, or another parent sealing it first, wins.
      const result = await this.db
        .updateTable('message_tasks')
        .set({ webhook_secret: await this.sealSecret(row.id, row.webhook_secret) })
        .where('id', '=', row.id)
        .where('webhook_secret', '=', row.webhook_secret)
        .executeTakeFirst();
      sealed += Number(result.numUpdatedRows);
    }
    return sealed;
  }

  view(task: MessageTaskRecord): MessageTaskView {
    return toMessageTaskView(task);
  }

  async create(input: MessageTaskInput): Promise<MessageTaskView> {
    await this.assertValid(input);
    const now = Date.now();
    const id = randomUUID();
    // A webhook task signs what it sends (X-Cascade-Signature); without a secret of the user's, it gets one.
    const secret =
      input.webhook_secret ??
      ((input.message_type ?? MessageType.message) === MessageType.webhook ? randomToken(40) : '');
    const row: MessageTaskTable = {
      id,
      name: input.name,
      message_type: input.message_type ?? MessageType.message,
      message_template: input.message_template ?? '',
      web_hook_url: input.web_hook_url ?? '',
      headers: JSON.stringify(input.headers ?? {}),
      cookies: input.cookies ?? '',
      mps_id: JSON.stringify(input.mps_id ?? []),
      cron_exp: (input.cron_exp ?? '').trim(),
      status: input.status ?? EnabledStatus.enabled,
      webhook_secret: await this.sealSecret(id, secret),
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('message_tasks').values(row).execute();
    return withSecretShown(row, secret);
  }

  async get(id: string): Promise<MessageTaskRecord> {
    return toMessageTaskRecord(await this.getRow(id));
  }

  private async getRow(id: string): Promise<MessageTaskTable> {
    const row = await this.db.selectFrom('message_tasks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Message task', id);
    return row;
  }

  /** Every enabled task, oldest first: what dispatch-all and the cron scheduler work through. */
  async listEnabled(): Promise<MessageTaskRecord[]> {
    return (await this.enabledRows()).map(toMessageTaskRecord);
  }

  /** Every enabled task in the original system's shape, for its child's sync (`mps_id`, `headers` as stored text). */
  async listEnabledOriginal(): Promise<MessageTaskOriginalView[]> {
    return (await this.enabledRows()).map(toMessageTaskOriginalView);
  }

  private async enabledRows(): Promise<MessageTaskTable[]> {
    return this.db
      .selectFrom('message_tasks')
      .selectAll()
      .where('status', '=', EnabledStatus.enabled)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  /**
   * A value that changes whenever any process creates, edits or deletes a task (each write sets `updated_at`): the
   * scheduler reads it every second to pick up tasks changed by the CLI or another parent, not only through its API.
   */
  async changeMark(): Promise<string> {
    const row = await this.db
      .selectFrom('message_tasks')
      .select((eb) => [
        eb.fn.countAll().as('n'),
        eb.fn.max('updated_at').as('latest'),
        eb.fn.sum('updated_at').as('total'),
      ])
      .executeTakeFirstOrThrow();
    return `${String(row.n)}:${String(row.latest)}:${String(row.total)}`;
  }

  async list(
    filter: MessageTaskFilter,
    limit: number,
    offset: number,
  ): Promise<{ rows: MessageTaskRecord[]; total: number }> {
    let query = this.db.selectFrom('message_tasks');
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows: rows.map(toMessageTaskRecord), total: Number(total.n) };
  }

  async update(id: string, patch: MessageTaskPatch): Promise<MessageTaskView> {
    const current = await this.getRow(id);
    await this.assertValid(patch);
    const values: Partial<MessageTaskTable> = { updated_at: Date.now() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.message_type !== undefined) values.message_type = patch.message_type;
    if (patch.message_template !== undefined) values.message_template = patch.message_template;
    if (patch.web_hook_url !== undefined) values.web_hook_url = patch.web_hook_url;
    if (patch.headers !== undefined) values.headers = JSON.stringify(patch.headers);
    if (patch.cookies !== undefined) values.cookies = patch.cookies;
    if (patch.mps_id !== undefined) values.mps_id = JSON.stringify(patch.mps_id);
    if (patch.cron_exp !== undefined) values.cron_exp = patch.cron_exp.trim();
    if (patch.status !== undefined) values.status = patch.status;
    let secret = patch.webhook_secret;
    if (patch.message_type === MessageType.webhook && current.webhook_secret === '' && !secret)
      secret = randomToken(40);
    if (secret !== undefined) values.webhook_secret = await this.sealSecret(id, secret);
    await this.db.updateTable('message_tasks').set(values).where('id', '=', id).execute();
    const updated = { ...current, ...values };
    return withSecretShown(updated, secret ?? '');
  }

  async remove(id: string): Promise<void> {
    const result = await this.db.deleteFrom('message_tasks').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('Message task', id);
  }

  /** Checks what a schema cannot: the cron expression parses and every feed in `mps_id` exists. All problems at once. */
  private async assertValid(fields: TaskFields): Promise<void> {
    const details: ErrorDetail[] = [];
    if (fields.cron_exp !== undefined) {
      const problem = cronExpressionProblem(fields.cron_exp);
      if (problem) details.push({ path: 'cron_exp', message: problem });
    }
    if (fields.message_template !== undefined) {
      const problem = await templateProblem(fields.message_template);
      if (problem) details.push({ path: 'message_template', message: problem });
    }
    if (fields.mps_id !== undefined && fields.mps_id.length > 0) {
      const unknown = new Set(await this.feeds.unknownIds(fields.mps_id.map((ref) => ref.id)));
      fields.mps_id.forEach((ref, index) => {
        if (unknown.has(ref.id)) details.push({ path: `mps_id.${index}.id`, message: `unknown feed id '${ref.id}'` });
      });
    }
    if (details.length > 0) throw validationFailed(details);
  }
}
