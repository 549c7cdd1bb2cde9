import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `1.4` for `### 1.4 Signed child requests`, `5` for `## 5. Dispatch, …`. */
function sectionNumbers(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{2,3} (\d+(?:\.\d+)?)\.? /gm)].map((m) => m[1] as string));
}

it('every protocol section the code cites exists in docs/protocol.md', () => {
  const sections = sectionNumbers(readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8'));
  const cited = sourceFiles(join(ROOT, 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/(?:PROTOCOL|docs\/protocol\.md) §(\d+(?:\.\d+)?)/g)].map((m) => ({
      file: relative(ROOT, file),
      section: m[1] as string,
    })),
  );
  expect(cited.length).toBeGreaterThan(20);
  expect(cited.filter((c) => !sections.has(c.section))).toEqual([]);
});
