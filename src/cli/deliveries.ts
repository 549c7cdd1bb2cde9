import { Option, type Command } from 'commander';
import { ALL_DELIVERY_STATUSES } from '../domain/delivery-states.js';
import type { DeliveryView } from '../store/deliveries/deliveries-store.js';
import { query, segment, withApiOptions, type ApiOptions } from './api-client.js';
import { withApi } from './with-api.js';
import { integerOption } from './context.js';
import { formatAge, printFields, printJson, printLine, printTable } from './output.js';

type ListOptions = ApiOptions & { task?: string; status?: string; limit: number; offset: number };

/** `cascade deliveries` (list) and `cascade delivery redeliver ID`, through the API (local or --url). */
export function registerDeliveries(program: Command): void {
  withApiOptions(
    program
      .command('deliveries')
      .description(
        'List deliveries (notifications of new articles), newest first, optionally filtered by task or status.',
      )
      .option('--task <id>', 'only this message task')
      .addOption(new Option('--status <status>', 'only this status').choices([...ALL_DELIVERY_STATUSES]))
      .option('--limit <n>', 'at most this many (1..200)', integerOption(1, 200), 50)
      .option('--offset <n>', 'skip this many first', integerOption(0, Number.MAX_SAFE_INTEGER), 0),
    { json: true },
  ).action(async (options: ListOptions) => {
    const path = `/api/v1/deliveries${query({ task_id: options.task, status: options.status, limit: options.limit, offset: options.offset })}`;
    const { list: views, total } = await withApi(options, (api) =>
      api.call<{ list: DeliveryView[]; total: number }>('GET', path),
    );
    if (options.json) return printJson({ list: views, total, limit: options.limit, offset: options.offset });
    if (views.length === 0)
      return printLine(
        total === 0 ? 'No deliveries match.' : `No deliveries at offset ${options.offset} (total ${total}).`,
      );
    printTable(
      ['ID', 'TASK', 'STATUS', 'ATTEMPT', 'ARTICLES', 'LAST ANSWER', 'CREATED'],
      views.map((d) => [
        d.id,
        d.task_id,
        d.status,
        String(d.attempt),
        String(d.article_count),
        lastAnswer(d.last_status_code, d.last_error),
        formatAge(d.created_at),
      ]),
    );
    if (total > views.length) printLine(`(${views.length} of ${total}; use --limit and --offset for more)`);
  });

  const delivery = program.command('delivery').description('Act on one delivery.');
  withApiOptions(
    delivery
      .command('redeliver <id>')
      .description('Send a delivered or failed delivery again (same id, attempts start over).'),
    { json: true },
  ).action(async (id: string, options: ApiOptions) => {
    const view = await withApi(options, (api) =>
      api.call<DeliveryView>('POST', `/api/v1/deliveries/${segment(id)}/redeliver`),
    );
    if (options.json) return printJson(view);
    printFields([
      ['id', view.id],
      ['status', view.status],
      ['due', view.available_at ?? '-'],
    ]);
  });
}

function lastAnswer(status: number | null, error: string | null): string {
  const text = [status === null ? '' : String(status), error ?? ''].filter(Boolean).join(' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text || '-';
}
