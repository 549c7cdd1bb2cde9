import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { configuredStoreVariants, type StoreVariant, type StoreVariantName } from '../../test/helpers/databases.js';

export type ChaosOptions = {
  seed: number;
  stores: StoreVariant[];
  minutes: number;
  logDir: string | undefined;
  serverRestart: string | undefined;
};

export const USAGE = `usage: npm run chaos -- [--seed N] [--store sqlite|postgres|mysql|all] [--minutes M] [--log-dir DIR]
  --seed     the generator's seed (default: a random one, printed); the same seed replays the same faults
  --store    which store (default all: SQLite, plus PostgreSQL and MariaDB at CASCADE_TEST_POSTGRES_URL /
             CASCADE_TEST_MYSQL_URL, or their local defaults)
  --minutes  chaos per store, before healing and draining (default 3; fractions allowed, e.g. 0.75)
  --log-dir  keep every process's log there (default: a temporary folder, removed after a clean run)
  --server-restart CMD
             also restart the real database server once, halfway through the chaos, by running CMD in a shell
             (e.g. "pg_ctlcluster 15 main restart"); only with --store postgres or mysql, and only on a machine
             where nothing else uses that server`;

const DEFAULT_URLS = {
  CASCADE_TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  CASCADE_TEST_MYSQL_URL: 'mysql://root@127.0.0.1:3306/mysql',
};

export function parseChaosOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      store: { type: 'string' },
      minutes: { type: 'string' },
      'log-dir': { type: 'string' },
      'server-restart': { type: 'string' },
    },
    strict: true,
  });
  const seed = values.seed === undefined ? randomInt(1, 2 ** 31 - 1) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new Error(`--seed must be an integer from 0 to 4294967295, not ${values.seed}`);
  const minutes = values.minutes === undefined ? 3 : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
    throw new Error(`--minutes must be a number above 0 (at most 1440), not ${values.minutes}`);
  const all = configuredStoreVariants({ ...DEFAULT_URLS, ...env });
  const wanted = values.store ?? 'all';
  const names: readonly string[] = ['sqlite', 'postgres', 'mysql'];
  if (wanted !== 'all' && !names.includes(wanted))
    throw new Error(`--store must be sqlite, postgres, mysql or all, not ${wanted}`);
  const stores = wanted === 'all' ? all : all.filter((v) => v.name === (wanted as StoreVariantName));
  const serverRestart = values['server-restart'];
  if (serverRestart !== undefined && (stores.length !== 1 || stores[0]?.name === 'sqlite'))
    throw new Error('--server-restart needs --store postgres or --store mysql');
  return { seed, stores, minutes, logDir: values['log-dir'], serverRestart };
}
