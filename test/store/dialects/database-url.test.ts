import { describe, expect, it } from 'vitest';
import { CascadeError } from '../../../src/errors/cascade-error.js';
import { parseDatabaseUrl, redactUrl } from '../../../src/store/dialects/database-url.js';

describe('parseDatabaseUrl', () => {
  it('reads SQLite files and memory', () => {
    expect(parseDatabaseUrl('sqlite:./data/cascade.db')).toEqual({ dialect: 'sqlite', filename: './data/cascade.db' });
    expect(parseDatabaseUrl('sqlite:///var/lib/cascade.db')).toEqual({
      dialect: 'sqlite',
      filename: '/var/lib/cascade.db',
    });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
  });

  it('accepts postgres:// and postgresql:// alike', () => {
    expect(parseDatabaseUrl('postgres://u:p@db:5432/cascade')).toEqual({
      dialect: 'postgres',
      url: 'postgres://u:p@db:5432/cascade',
      database: 'cascade',
    });
    expect(parseDatabaseUrl('postgresql://u@db/cascade?sslmode=require')).toEqual({
      dialect: 'postgres',
      url: 'postgresql://u@db/cascade?sslmode=require',
      database: 'cascade',
    });
  });

  it('accepts mysql:// and mariadb://, handing the driver a mysql:// URL', () => {
    expect(parseDatabaseUrl('mysql://root@127.0.0.1:3306/cascade')).toEqual({
      dialect: 'mysql',
      url: 'mysql://root@127.0.0.1:3306/cascade',
      database: 'cascade',
    });
    expect(parseDatabaseUrl('mariadb://root:s3cret@db/cascade')).toEqual({
      dialect: 'mysql',
      url: 'mysql://root:s3cret@db/cascade',
      database: 'cascade',
    });
  });

  it('decodes an escaped database name', () => {
    expect(parseDatabaseUrl('postgres://db/my%20db')).toMatchObject({ database: 'my db' });
  });

  it('rejects a server URL without a database, naming the fix and hiding the password', () => {
    const error = (() => {
      try {
        parseDatabaseUrl('postgres://u:hunter2@db:5432/');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CascadeError);
    expect((error as CascadeError).code).toBe('VALIDATION_FAILED');
    expect((error as CascadeError).message).toContain('names no database');
    expect((error as CascadeError).message).not.toContain('hunter2');
  });

  it('rejects unknown schemes', () => {
    for (const url of ['mssql://db/x', 'db.sqlite', 'http://db/x', '']) {
      expect(() => parseDatabaseUrl(url), url).toThrow(/not understood/);
    }
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('mysql://root:s3cret@db:3306/cascade')).toBe('mysql://root:***@db:3306/cascade');
    expect(redactUrl('postgres://postgres@db/cascade')).toBe('postgres://postgres@db/cascade');
  });
});
