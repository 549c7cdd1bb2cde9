import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MAX_IMPORT_ENTRIES } from '../../../domain/feed-entries.js';
import { ok } from '../../envelope.js';
import { requireUser } from '../../plugins/auth.js';
import { closed } from '../../schemas.js';

/**
 * Entries are only shaped here (strings, bounded); whether a URL is usable, an id well formed or two entries the same
 * feed is decided per entry (domain/feed-entries.ts) so that every problem is reported against its entry. The
 * bounds are above the stored limits for that reason, and keep a request's size finite.
 */
const ImportEntry = closed({
  url: Type.String({
    maxLength: 4096,
    description: 'The feed to fetch: an http(s) URL, at most 2,000 characters once normalised.',
  }),
  id: Type.Optional(
    Type.String({
      maxLength: 1000,
      description: 'The id to store it under (at most 191 characters); derived from the URL when absent.',
    }),
  ),
  name: Type.Optional(
    Type.String({
      maxLength: 2000,
      description: 'Its name (`mp_name`, at most 500 characters); the URL’s host and path when absent.',
    }),
  ),
});

const ImportBody = closed({
  feeds: Type.Array(ImportEntry, {
    maxItems: MAX_IMPORT_ENTRIES,
    description: `The list, at most ${MAX_IMPORT_ENTRIES} entries.`,
  }),
  dry_run: Type.Optional(
    Type.Boolean({ default: false, description: 'Decide every entry and answer the report, but store nothing.' }),
  ),
  skip_invalid: Type.Optional(
    Type.Boolean({
      default: false,
      description: 'Import the usable entries and report the invalid ones, instead of refusing the whole list.',
    }),
  ),
});

const Outcome = Type.Object(
  {
    index: Type.Integer({ description: 'Position of the entry in `feeds`, from 0.' }),
    outcome: Type.Union([
      Type.Literal('created'),
      Type.Literal('present'),
      Type.Literal('duplicate'),
      Type.Literal('invalid'),
    ]),
    id: Type.Optional(Type.String({ description: 'created, present: the feed’s id.' })),
    url: Type.Optional(Type.String({ description: 'created, present: the URL stored.' })),
    name: Type.Optional(Type.String({ description: 'created: the name stored.' })),
    match: Type.Optional(
      Type.Union([Type.Literal('id'), Type.Literal('url')], {
        description: 'present: stored under this entry’s id, or under its URL.',
      }),
    ),
    note: Type.Optional(
      Type.String({ description: 'present: how the stored feed differs from the entry (it is left unchanged).' }),
    ),
    field: Type.Optional(
      Type.Union([Type.Literal('url'), Type.Literal('id'), Type.Literal('name')], {
        description: 'invalid: the field at fault.',
      }),
    ),
    reason: Type.Optional(Type.String({ description: 'invalid, duplicate: why.' })),
    of: Type.Optional(
      Type.Integer({
        description: 'duplicate (and an invalid conflict): index of the earlier entry it repeats or contradicts.',
      }),
    ),
  },
  { description: 'What happened to one entry.' },
);

const ImportReport = Type.Object({
  code: Type.Literal(0),
  message: Type.String(),
  data: Type.Object({
    dry_run: Type.Boolean(),
    created: Type.Integer(),
    present: Type.Integer(),
    duplicate: Type.Integer(),
    invalid: Type.Integer(),
    entries: Type.Array(Outcome),
  }),
});

/**
 * `POST /feeds/import`: many feeds in one request, all or nothing. Importing the same list again creates nothing
 * (entries whose id or URL is stored are `present`), and a list with an invalid entry is refused whole (400,
 * `details` naming `feeds.<index>.<field>`) unless `skip_invalid`.
 */
export async function feedImportRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.services;
  app.post<{ Body: Static<typeof ImportBody> }>(
    '/feeds/import',
    {
      schema: {
        tags: ['feeds'],
        security: [{ bearer: [] }],
        summary: 'Import a list of feeds (idempotent, all or nothing)',
        description:
          'Creates the entries not stored yet. An entry whose id, or whose URL, is already stored is `present` and left unchanged, so a repeated import creates nothing. ' +
          'An entry without an id gets one derived from its URL: a slug of host and path plus 10 hex digits of the SHA-256 of the normalised URL (`blog-example-com-feed-xml-b7523a7814`), longer when that id is taken. ' +
          'A repeated URL is a `duplicate` and imported once. Any invalid entry refuses the whole list with 400 (nothing stored) unless `skip_invalid`.',
        body: ImportBody,
        response: { 200: ImportReport },
      },
      onRequest: requireUser('admin'),
    },
    async (request) => {
      const { feeds, dry_run, skip_invalid } = request.body;
      const report = await store.feeds.importMany(feeds, { dryRun: dry_run, skipInvalid: skip_invalid });
      const message = report.dry_run
        ? `Dry run: ${report.created} would be created, ${report.present} already present, ${report.invalid} invalid.`
        : `${report.created} created, ${report.present} already present, ${report.invalid} invalid.`;
      return ok(report, message);
    },
  );
}
