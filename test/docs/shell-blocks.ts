/**
 * The fenced shell blocks of chosen README sections, with what the comment line right above each one says about
 * running it:
 *
 *   <!-- readme-test: skip (why) -->                      not run (the reason is shown in the test's output)
 *   <!-- readme-test: background; ready: COMMAND -->     a long-running process (its own terminal): started in the
 *                                                          background; ready once COMMAND exits 0
 *   <!-- readme-test: background; ready-output: TEXT -->  ready once the process has printed TEXT
 *   `; cwd: repository`                                    runs in the checkout instead of the walkthrough's folder
 *
 * A block without a comment runs in the foreground, in the one shell that every foreground block shares (as a user
 * pastes them into one terminal), and must exit 0.
 */
export type ShellBlock = {
  section: string;
  /** 1-based line of the opening fence, to name the block in a failure. */
  line: number;
  code: string;
  mode: 'foreground' | 'background' | 'skip';
  skipReason?: string;
  /** Background: a shell command that exits 0 once the process is ready. */
  ready?: string;
  /** Background: text the process prints once it is ready. */
  readyOutput?: string;
  cwd: 'walkthrough' | 'repository';
};

const SHELL_LANGUAGES = new Set(['bash', 'sh', 'shell', 'console']);
const DIRECTIVE = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;

/** Blocks of the `## ` sections whose titles are given, in document order; throws when a section is missing. */
export function extractShellBlocks(markdown: string, sectionTitles: readonly string[]): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  const found = new Set<string>();
  let section: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heading = /^## (.+)$/.exec(line);
    if (heading) {
      section = sectionTitles.includes(heading[1] as string) ? (heading[1] as string) : undefined;
      if (section) found.add(section);
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    if (!section || !SHELL_LANGUAGES.has(fence[1] as string)) continue;
    blocks.push({ section, line: start + 1, code: body.join('\n'), ...parseDirective(lines[start - 1] ?? '', start) });
  }
  const missing = sectionTitles.filter((title) => !found.has(title));
  if (missing.length > 0) throw new Error(`README has no section ${missing.map((t) => `"## ${t}"`).join(', ')}`);
  return blocks;
}

function parseDirective(line: string, fenceIndex: number): Pick<ShellBlock, 'mode' | 'skipReason' | 'ready' | 'readyOutput' | 'cwd'> {
  const match = DIRECTIVE.exec(line.trim());
  if (!match) return { mode: 'foreground', cwd: 'walkthrough' };
  const text = match[1] as string;
  const skip = /^skip\s*\((.+)\)$/.exec(text);
  if (skip) return { mode: 'skip', skipReason: skip[1] as string, cwd: 'walkthrough' };
  const [kind, ...options] = text.split(/;\s*/);
  if (kind !== 'background') throw new Error(`line ${fenceIndex}: unknown readme-test directive "${text}"`);
  const result: Pick<ShellBlock, 'mode' | 'ready' | 'readyOutput' | 'cwd'> = { mode: 'background', cwd: 'walkthrough' };
  for (const option of options) {
    const [, key, value] = /^([a-z-]+):\s*(.+)$/.exec(option) ?? [];
    if (key === 'ready') result.ready = value;
    else if (key === 'ready-output') result.readyOutput = value;
    else if (key === 'cwd' && value === 'repository') result.cwd = 'repository';
    else throw new Error(`line ${fenceIndex}: unknown readme-test option "${option}"`);
  }
  if (!result.ready && !result.readyOutput) throw new Error(`line ${fenceIndex}: a background block needs "ready:" or "ready-output:"`);
  return result;
}
