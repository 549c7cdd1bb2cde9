import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { httpsCall, writeSelfSigned } from '../helpers/self-signed.js';
import { collect, spawnCascade, stderrMark, waitForStderr } from './cli-process.js';

describe('cascade parent with server.tls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-tls-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('re-reads the certificate and key on SIGHUP without dropping the process', async () => {
    const first = writeSelfSigned(dir);
    const env = {
      DATABASE_URL: `sqlite:${join(dir, 'cascade.db')}`,
      HOST: '127.0.0.1',
      PORT: '0',
      CASCADE_TLS_CERT: first.cert,
      CASCADE_TLS_KEY: first.key,
    };
    const child = spawnCascade(['parent'], { cwd: dir, env });
    const done = collect(child);
    try {
      const url = (await waitForStderr(child, /"url":"(https:\/\/127\.0\.0\.1:\d+)"/))[1] as string;
      expect(await httpsCall(`${url}/healthz`, first.pem)).toMatchObject({
        status: 200,
        fingerprint: first.fingerprint,
      });

      const renewed = writeSelfSigned(dir);
      const mark = stderrMark(child);
      child.kill('SIGHUP');
      await waitForStderr(child, /TLS certificate and key reloaded/, { from: mark });
      expect(await httpsCall(`${url}/healthz`, renewed.pem)).toMatchObject({
        status: 200,
        fingerprint: renewed.fingerprint,
      });
    } finally {
      child.kill('SIGTERM');
    }
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
  });
});
