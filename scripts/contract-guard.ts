// The API contract guard, run by .ci/run: compares schema.graphql as this commit
// has it with the previous landing's (the first parent: on main, a merge commit's
// first parent is main before the merge) using graphql-inspector, and fails on a
// breaking change unless the commit message carries BREAKING_MARKER.
//
//   tsx scripts/contract-guard.ts                    # in a clone: HEAD against HEAD^1
//   tsx scripts/contract-guard.ts --old a.graphql --new b.graphql [--message "…"]
//
// With no previous commit to compare with (a shallow clone of depth 1, the first
// commit, a schema that did not exist before) it says so and passes. See docs/testing.md.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { CriticalityLevel, diff } from "@graphql-inspector/core";
import { buildSchema } from "graphql";

export const BREAKING_MARKER = "[breaking-api]";
const SCHEMA_FILE = "schema.graphql";

export interface Verdict {
  ok: boolean;
  breaking: string[];
  dangerous: string[];
  /** What the guard prints. */
  report: string;
}

export async function checkContract(oldSdl: string, newSdl: string, message: string): Promise<Verdict> {
  const changes = await diff(buildSchema(oldSdl), buildSchema(newSdl));
  const of = (level: CriticalityLevel) =>
    changes.filter((change) => change.criticality.level === level).map((change) => change.message);
  const breaking = of(CriticalityLevel.Breaking);
  const dangerous = of(CriticalityLevel.Dangerous);
  const intended = message.includes(BREAKING_MARKER);
  const lines = [`contract guard: ${changes.length} change(s) to ${SCHEMA_FILE}`];
  for (const line of breaking) lines.push(`  BREAKING   ${line}`);
  for (const line of dangerous) lines.push(`  dangerous  ${line}`);
  if (breaking.length && intended) lines.push(`breaking changes marked as intended (${BREAKING_MARKER}): passing`);
  else if (breaking.length) {
    lines.push(
      `breaking changes to the API: existing clients may fail. If this is intended, say so in the commit message with ${BREAKING_MARKER}.`,
    );
  }
  return { ok: breaking.length === 0 || intended, breaking, dangerous, report: lines.join("\n") };
}

const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });

/** HEAD^1's schema and HEAD's message, or why there is nothing to compare with. */
function previousFromGit(): { old: string; current: string; message: string } | { skip: string } {
  let parent: string;
  try {
    parent = git("rev-parse", "--verify", "--quiet", "HEAD^1^{commit}").trim();
  } catch {
    return { skip: "no previous commit here (first commit, or a shallow clone of depth 1)" };
  }
  let old: string;
  try {
    old = git("show", `${parent}:${SCHEMA_FILE}`);
  } catch {
    return { skip: `${SCHEMA_FILE} did not exist in ${parent.slice(0, 12)}` };
  }
  return { old, current: git("show", `HEAD:${SCHEMA_FILE}`), message: git("log", "-1", "--format=%B", "HEAD") };
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

async function main(args: string[]): Promise<number> {
  const oldFile = option(args, "--old");
  const newFile = option(args, "--new");
  let inputs: { old: string; current: string; message: string };
  if (oldFile && newFile) {
    inputs = {
      old: readFileSync(oldFile, "utf8"),
      current: readFileSync(newFile, "utf8"),
      message: option(args, "--message") ?? "",
    };
  } else {
    const found = previousFromGit();
    if ("skip" in found) {
      console.log(`contract guard: skipped, ${found.skip}`);
      return 0;
    }
    inputs = found;
  }
  const verdict = await checkContract(inputs.old, inputs.current, inputs.message);
  console.log(verdict.report);
  return verdict.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
