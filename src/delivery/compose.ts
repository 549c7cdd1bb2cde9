import type { Store } from '../store/store.js';
import type { MessageTaskRecord } from '../store/message-tasks.js';
import type { Message } from './message-formats.js';
import { renderTemplate, type TemplateContext } from './template.js';

export type ArticleForMessage = TemplateContext['articles'][number];

/** The template variables of a message about `articles` of `task`. */
function templateContext(
  task: MessageTaskRecord,
  articles: ReadonlyArray<Omit<ArticleForMessage, 'publish_date'>>,
  nowMs: number,
): TemplateContext {
  const items = articles.map((a) => ({
    ...a,
    publish_date: a.publish_time > 0 ? new Date(a.publish_time * 1000).toISOString() : '',
  }));
  const feeds = [...new Map(items.map((a) => [a.mp_id, { id: a.mp_id, mp_name: a.mp_name }])).values()];
  return {
    task: { id: task.id, name: task.name },
    feeds,
    feed: feeds.length === 1 ? (feeds[0] ?? null) : null,
    articles: items,
    article_count: items.length,
    now: new Date(nowMs).toISOString(),
  };
}

/** Renders the task's template and wraps it as the message its receiver expects; `secret` is the opened webhook secret. */
export async function composeMessage(
  task: MessageTaskRecord,
  secret: string,
  deliveryId: string,
  articles: ReadonlyArray<Omit<ArticleForMessage, 'publish_date'>>,
  timeoutMs: number,
  nowMs: number,
): Promise<Message> {
  const text = await renderTemplate(task.messageTemplate, templateContext(task, articles, nowMs));
  return {
    deliveryId,
    webhookUrl: task.webHookUrl,
    messageType: task.messageType,
    title: `${task.name}: ${articles.length} 篇新文章`,
    text,
    headers: task.headers,
    secret,
    timeoutMs,
    nowMs,
  };
}

/** Articles for a test message: the task's newest stored ones, or one sample when it has none yet. */
export async function sampleArticles(
  store: Store,
  task: MessageTaskRecord,
  nowMs: number,
): Promise<Array<Omit<ArticleForMessage, 'publish_date'>>> {
  const { feedIds } = task;
  const names = new Map(
    (await Promise.all(feedIds.slice(0, 50).map((id) => store.feeds.find(id)))).flatMap((f) =>
      f ? [[f.id, f.mpName] as const] : [],
    ),
  );
  const found = feedIds.length === 0 ? [] : (await store.articles.list({ mp_ids: feedIds }, 3, 0)).list;
  if (found.length > 0) {
    return found.map((a) => ({
      id: a.id,
      mp_id: a.mp_id,
      mp_name: names.get(a.mp_id) ?? a.mp_id,
      title: a.title,
      url: a.url,
      description: a.description,
      pic_url: a.pic_url,
      publish_time: a.publish_time,
    }));
  }
  return [
    {
      id: 'sample',
      mp_id: feedIds[0] ?? 'sample',
      mp_name: names.get(feedIds[0] ?? '') ?? 'Cascade',
      title: 'Cascade 测试消息 (test message)',
      url: 'https://example.com/cascade-test',
      description: '',
      pic_url: '',
      publish_time: Math.floor(nowMs / 1000),
    },
  ];
}
