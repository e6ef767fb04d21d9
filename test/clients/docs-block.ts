import { readFileSync } from "node:fs";

/**
 * The first fenced code block in `language` under the `## heading` section
 * of a Markdown file: how tests check that the documented example is the
 * file they run.
 */
export function docsBlock(file: string, heading: string, language: string): string {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`${file}: no "## ${heading}" section`);
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const match = section.match(new RegExp("```" + language + "(?: [^\\n]*)?\\n([\\s\\S]*?)```"));
  if (!match) throw new Error(`${file}: no ${language} block under "## ${heading}"`);
  return match[1]!;
}
