import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

/** A stream that collects what the logger writes; `isTTY` as a terminal would set it. */
function sink(isTTY: boolean): { stream: NodeJS.WritableStream; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('logger', () => {
  it('writes JSON lines with an ISO-8601 time when the destination is not a terminal', () => {
    const out = sink(false);
    createLogger('info', out.stream).info({ node: 'child-1', api_secret: 'CSsecret' }, 'child online');
    const entry = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 30, msg: 'child online', node: 'child-1', api_secret: '[redacted]' });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('writes readable lines on a terminal, redacted the same way', () => {
    const out = sink(true);
    createLogger('info', out.stream).warn({ node: 'child-1', password: 'hunter2' }, 'claim failed; retrying');
    expect(out.text()).toContain('\u001b['); // coloured for the terminal
    // eslint-disable-next-line no-control-regex -- removing the colour codes to read the text
    const line = out.text().replace(/\u001b\[[0-9;]*m/g, '');
    expect(() => JSON.parse(line) as unknown).toThrow();
    expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] .*WARN.*claim failed; retrying/);
    expect(line).toContain('node: "child-1"');
    expect(line).toContain('[redacted]');
    expect(line).not.toContain('hunter2');
  });

  it('follows an explicit format whatever the destination is', () => {
    const terminal = sink(true);
    createLogger('info', terminal.stream, 'json').info('as JSON');
    expect(JSON.parse(terminal.text().trim())).toMatchObject({ msg: 'as JSON' });
    const file = sink(false);
    createLogger('info', file.stream, 'pretty').info('as text');
    expect(file.text()).toMatch(/INFO.*as text/);
    expect(file.text()).not.toContain('\u001b['); // no colour codes into a file
  });
});
