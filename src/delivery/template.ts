import type { Liquid, LiquidError as LiquidErrorClass } from 'liquidjs';
import { CascadeError } from '../errors/cascade-error.js';

/**
 * Message templates in Liquid, whose `{{ article.title }}`, `{% for article in articles %}` and `{{ x | filter }}`
 * read like the original system's Jinja templates. Nothing in a template can reach the file system (an empty
 * in-memory template map, and `include`/`render`/`layout` refused when the template is parsed) or run without
 * bound (parse, render-time and memory limits).
 */
const DEFAULT_TEMPLATE = [
  '### {{ task.name }}: {{ article_count }} new article{% if article_count != 1 %}s{% endif %}',
  '{% for article in articles %}',
  '- [{{ article.title }}]({{ article.url }}) ({{ article.mp_name }}, {{ article.publish_date }})',
  '{% endfor %}',
].join('\n');

/** The variables a template sees. */
export type TemplateContext = {
  task: { id: string; name: string };
  feeds: Array<{ id: string; mp_name: string }>;
  /** The one feed when the message covers one, as the original's per-feed templates expect. */
  feed: { id: string; mp_name: string } | null;
  articles: Array<{
    id: string;
    title: string;
    url: string;
    description: string;
    pic_url: string;
    mp_id: string;
    mp_name: string;
    publish_time: number;
    publish_date: string;
  }>;
  article_count: number;
  now: string;
};

const LIMITS = { parseLimit: 200_000, renderLimit: 2_000, memoryLimit: 10_000_000 };
const FILE_TAGS = ['include', 'render', 'layout'];

function refusingTag(name: string): Parameters<Liquid['registerTag']>[1] {
  return {
    parse() {
      throw new Error(`the '${name}' tag is not allowed: templates cannot read other templates or files`);
    },
    render() {
      return '';
    },
  };
}

type Engine = { liquid: Liquid; LiquidError: typeof LiquidErrorClass };
let engine: Promise<Engine> | undefined;

/** Loaded with the first template, so commands and processes that never see one do not load the engine. */
function loadEngine(): Promise<Engine> {
  engine ??= import('liquidjs').then(({ Liquid, LiquidError }) => {
    const liquid = new Liquid({ templates: {}, ...LIMITS, strictFilters: true, ownPropertyOnly: true, cache: false });
    for (const tag of FILE_TAGS) liquid.registerTag(tag, refusingTag(tag));
    return { liquid, LiquidError };
  });
  return engine;
}

/** Why a template does not parse, naming the line, or undefined when it parses. */
export async function templateProblem(template: string): Promise<string | undefined> {
  const { liquid, LiquidError } = await loadEngine();
  try {
    liquid.parse(template);
    return undefined;
  } catch (error) {
    return describe(error, LiquidError);
  }
}

/** Renders a message; an empty template renders the default. A template that fails or runs too long is an UNPROCESSABLE error. */
export async function renderTemplate(template: string, context: TemplateContext): Promise<string> {
  const { liquid, LiquidError } = await loadEngine();
  try {
    return (await liquid.parseAndRender(template.trim() === '' ? DEFAULT_TEMPLATE : template, context))
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  } catch (error) {
    throw new CascadeError('UNPROCESSABLE', `The message template failed: ${describe(error, LiquidError)}`, {
      cause: error,
    });
  }
}

function describe(error: unknown, LiquidError: Engine['LiquidError']): string {
  if (error instanceof LiquidError) {
    const token = (error as InstanceType<Engine['LiquidError']> & { token?: { getPosition?: () => [number, number] } })
      .token;
    const position = token?.getPosition?.();
    // The library's message already ends in "line:N, col:M" for most errors; say it in words once.
    const message = (error.originalError?.message ?? error.message).replace(/,? ?line:\d+, col:\d+.*$/s, '');
    return position ? `line ${position[0]}, column ${position[1]}: ${message}` : message;
  }
  return error instanceof Error ? error.message : String(error);
}
