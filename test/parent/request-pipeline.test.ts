import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../helpers/databases.js';
import { api } from '../helpers/http.js';
import { startTestParent, type TestParent } from '../helpers/parent.js';

describeEachStore('request pipeline', (dialect) => {
  let t: TestParent;
  beforeAll(async () => {
    t = await startTestParent({ databaseUrl: await dialect.createDatabase() });
  });
  afterAll(async () => t?.close());

  it('authenticates before it validates: no credentials and a bad body is 401, not 400', async () => {
    const response = await api(t.url, '/api/v1/cascade/nodes', { json: { colour: 'red' } });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('UNAUTHENTICATED');
  });

  it('accepts form bodies on login only', async () => {
    const form = await api(t.url, '/api/v1/message-tasks', {
      rawBody: 'name=x',
      contentType: 'application/x-www-form-urlencoded',
      token: t.adminToken,
    });
    expect(form.status).toBe(415);
    expect(form.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('reports a choice of values once, naming the allowed values', async () => {
    const response = await api(t.url, '/api/v1/cascade/nodes', {
      token: t.adminToken,
      json: { node_type: 7, name: 'n' },
    });
    expect(response.status).toBe(400);
    expect(response.body.details).toEqual([{ path: 'node_type', message: 'must be one of: 0, 1' }]);
  });
});
