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

/** One entry of `mps_id`: a feed id plus whatever else the UI keeps there (such as `mp_name`). */
export type FeedRef = { id: string; [extra: string]: unknown };

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

export function toMessageTaskPublicView(row: MessageTaskTable): MessageTaskPublicView {
  return {
    id: row.id,
    name: row.name,
    message_type: Number(row.message_type),
    message_template: row.message_template,
    web_hook_url: row.web_hook_url,
    mps_id: parseJson<FeedRef[]>(row.mps_id, []),
    cron_exp: row.cron_exp,
    status: Number(row.status),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** A task as the original system's child sync reads it: `mps_id`, `headers` and `cookies` as JSON text, `""` when empty. */
export type MessageTaskOriginalView = Omit<MessageTaskPublicView, 'mps_id'> & {
  mps_id: string;
  headers: string;
  cookies: string;
};

export function toMessageTaskOriginalView(row: MessageTaskTable): MessageTaskOriginalView {
  const emptyAsBlank = (text: string, empty: string) => (text.trim() === empty ? '' : text);
  return {
    ...toMessageTaskPublicView(row),
    mps_id: emptyAsBlank(row.mps_id, '[]'),
    headers: emptyAsBlank(row.headers, '{}'),
    cookies: row.cookies,
  };
}

function toMessageTaskView(row: MessageTaskTable): MessageTaskView {
  return {
    ...toMessageTaskPublicView(row),
    headers: parseJson<Record<string, string>>(row.headers, {}),
    cookies: row.cookies,
    webhook_secret_set: row.webhook_secret !== '',
  };
}

/** The answer that set or generated a secret shows it once, in plain text; the row keeps it sealed. */
function withSecretShown(row: MessageTaskTable, plainSecret: string): MessageTaskView {
  return plainSecret === '' ? toMessageTaskView(row) : { ...toMessageTaskView(row), webhook_secret: plainSecret };
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
  async webhookSecret(task: Pick<MessageTaskTable, 'id' | 'webhook_secret'>): Promise<string> {
    if (task.webhook_secret === '' || !isSealed(task.webhook_secret)) return task.webhook_secret;
    const plain = (await this.secretBox()).open(task.webhook_secret, secretContext(task.id));
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

  view(row: MessageTaskTable): MessageTaskView {
    return toMessageTaskView(row);
  }

  async create(input: MessageTaskInput): Promise<MessageTaskView> {
    await this.assertValid(input);
    const now = Date.now();
    const id = randomUUID();
    // A webhook task signs what it sends (X-Cascade-Signature); without a secret of the user's, it gets one.
    const secret = input.webhook_secret ?? ((input.message_type ?? 0) === 1 ? randomToken(40) : '');
    const row: MessageTaskTable = {
      id,
      name: input.name,
      message_type: input.message_type ?? 0,
      message_template: input.message_template ?? '',
      web_hook_url: input.web_hook_url ?? '',
      headers: JSON.stringify(input.headers ?? {}),
      cookies: input.cookies ?? '',
      mps_id: JSON.stringify(input.mps_id ?? []),
      cron_exp: (input.cron_exp ?? '').trim(),
      status: input.status ?? 1,
      webhook_secret: await this.sealSecret(id, secret),
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('message_tasks').values(row).execute();
    return withSecretShown(row, secret);
  }

  /** The raw row (the dispatcher reads `mps_id`, `headers`, `cookies` from it). */
  async get(id: string): Promise<MessageTaskTable> {
    const row = await this.db.selectFrom('message_tasks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Message task', id);
    return row;
  }

  /** Every enabled task, oldest first: what dispatch-all and the cron scheduler work through. */
  async listEnabled(): Promise<MessageTaskTable[]> {
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
  ): Promise<{ rows: MessageTaskTable[]; total: number }> {
    let query = this.db.selectFrom('message_tasks');
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
    const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(total.n) };
  }

  async update(id: string, patch: MessageTaskPatch): Promise<MessageTaskView> {
    const current = await this.get(id);
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
    if (patch.message_type === 1 && current.webhook_secret === '' && !secret) secret = randomToken(40);
    if (secret !== undefined) values.webhook_secret = await this.sealSecret(id, secret);
    await this.db.updateTable('message_tasks').set(values).where('id', '=', id).execute();
    const updated = { ...current, ...values };
    return secret ? withSecretShown(updated, secret) : toMessageTaskView(updated);
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
