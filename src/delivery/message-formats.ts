import { createHmac } from 'node:crypto';
import { MessageType } from '../domain/message-type.js';
import type { HttpAnswer, HttpRequest } from './http-send.js';

/**
 * The body each receiver documents. `message_type` 0 sends a chat-bot message whose kind the webhook URL tells
 * (by the service's host, or by its documented path so a self-hosted relay or a test receiver is recognised);
 * any other URL gets a generic `{title, text}`. `message_type` 1 posts the rendered template itself, signed.
 */
export const ReceiverKind = Object.freeze({
  wecom: 'wecom',
  dingtalk: 'dingtalk',
  feishu: 'feishu',
  generic: 'generic',
  webhook: 'webhook',
} as const);
export type ReceiverKind = (typeof ReceiverKind)[keyof typeof ReceiverKind];

export function receiverKind(messageType: MessageType, webhookUrl: string): ReceiverKind {
  if (messageType === MessageType.webhook) return 'webhook';
  const url = new URL(webhookUrl);
  if (url.hostname === 'qyapi.weixin.qq.com' || url.pathname === '/cgi-bin/webhook/send') return 'wecom';
  if (url.hostname === 'oapi.dingtalk.com' || url.pathname === '/robot/send') return 'dingtalk';
  if (
    url.hostname === 'open.feishu.cn' ||
    url.hostname === 'open.larksuite.com' ||
    url.pathname.startsWith('/open-apis/bot/v2/hook/')
  )
    return 'feishu';
  return 'generic';
}

export type Message = {
  deliveryId: string;
  webhookUrl: string;
  messageType: MessageType;
  title: string;
  /** The rendered template. */
  text: string;
  /** The task's extra headers (webhooks only). */
  headers: Record<string, string>;
  /** Webhook: the X-Cascade-Signature key; DingTalk and Feishu: the bot's signing secret; '' for none. */
  secret: string;
  timeoutMs: number;
  nowMs: number;
};

export function buildRequest(message: Message): HttpRequest {
  const kind = receiverKind(message.messageType, message.webhookUrl);
  const base = { 'x-cascade-delivery': message.deliveryId };
  const json = (body: unknown, url = message.webhookUrl): HttpRequest => ({
    url,
    headers: { ...base, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
    timeoutMs: message.timeoutMs,
  });
  switch (kind) {
    case 'wecom':
      return json({ msgtype: 'markdown', markdown: { content: message.text } });
    case 'dingtalk':
      return json(
        { msgtype: 'markdown', markdown: { title: message.title, text: message.text } },
        dingTalkUrl(message),
      );
    case 'feishu':
      return json({
        ...feishuSignature(message),
        msg_type: 'post',
        content: { post: { zh_cn: { title: message.title, content: feishuLines(message.text) } } },
      });
    case 'generic':
      return json({ title: message.title, text: message.text });
    case 'webhook':
      return webhookRequest(message, base);
  }
}

/** DingTalk signs with `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, "timestamp\nsecret")) in the query. */
function dingTalkUrl({ webhookUrl, secret, nowMs }: Message): string {
  if (secret === '') return webhookUrl;
  const url = new URL(webhookUrl);
  url.searchParams.set('timestamp', String(nowMs));
  url.searchParams.set('sign', createHmac('sha256', secret).update(`${nowMs}\n${secret}`).digest('base64'));
  return url.href;
}

/** Feishu signs with `timestamp` (s) and `sign` = base64(HMAC-SHA256 keyed by "timestamp\nsecret" over nothing) in the body. */
function feishuSignature({ secret, nowMs }: Message): { timestamp?: string; sign?: string } {
  if (secret === '') return {};
  const timestamp = String(Math.floor(nowMs / 1000));
  return { timestamp, sign: createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64') };
}

type FeishuElement = { tag: 'text'; text: string } | { tag: 'a'; text: string; href: string };

/** A Feishu post is a list of lines, each a list of elements; Markdown links become `a` elements. */
function feishuLines(text: string): FeishuElement[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const elements: FeishuElement[] = [];
      let last = 0;
      for (const match of line.matchAll(/\[([^\]]*)\]\((\S+?)\)/g)) {
        if (match.index > last) elements.push({ tag: 'text', text: line.slice(last, match.index) });
        elements.push({ tag: 'a', text: match[1] ?? '', href: match[2] ?? '' });
        last = match.index + match[0].length;
      }
      if (last < line.length) elements.push({ tag: 'text', text: line.slice(last) });
      return elements;
    });
}

/** The signature a webhook receiver checks: hex HMAC-SHA256 over "<timestamp>.<body>" with the task's secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

function webhookRequest(message: Message, base: Record<string, string>): HttpRequest {
  const timestamp = String(Math.floor(message.nowMs / 1000));
  const isJson = parsesAsJson(message.text);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k.toLowerCase(), v])),
    ...base,
    'content-type': isJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'x-cascade-timestamp': timestamp,
  };
  if (message.secret !== '') headers['x-cascade-signature'] = webhookSignature(message.secret, timestamp, message.text);
  return { url: message.webhookUrl, headers, body: message.text, timeoutMs: message.timeoutMs };
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Chat bots answer HTTP 200 with an error code in the body when they refuse (bad signature, rate limit). */
export function botRefusal(kind: ReceiverKind, answer: HttpAnswer): string | undefined {
  if (kind === 'generic' || kind === 'webhook') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  const code = kind === 'feishu' ? (record.code ?? record.StatusCode) : record.errcode;
  if (code === undefined || code === 0) return undefined;
  return `${kind} refused the message: ${String(code)} ${String(record.msg ?? record.errmsg ?? record.StatusMessage ?? '')}`.trim();
}
