import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BREAKING_MARKER, checkContract } from "../../scripts/contract-guard";

// The contract guard (.ci/run): a change to schema.graphql that would break existing
// clients fails CI unless its commit says it is intended; additions pass; and a clone
// with nothing to compare with is skipped, not failed.

const BEFORE = `
type Query { key(id: ID!): Key }
type Key { id: ID! name: String! scopes: [String!]! }
`;
// A new optional argument and a new field: old clients keep working.
const ADDITIVE = `
type Query { key(id: ID!, environment: String): Key }
type Key { id: ID! name: String! scopes: [String!]! createdAt: String }
`;
// A field removed and an argument made required: old clients' documents fail.
const BREAKING = `
type Query { key(id: ID!, environment: String!): Key }
type Key { id: ID! scopes: [String!]! }
`;

describe("checkContract", () => {
  it("passes additions", async () => {
    const verdict = await checkContract(BEFORE, ADDITIVE, "Key.createdAt");
    expect(verdict.ok).toBe(true);
    expect(verdict.breaking).toEqual([]);
  });

  it("a removed field or a newly required argument slipped into an ordinary commit fails", async () => {
    const verdict = await checkContract(BEFORE, BREAKING, "tidy the Key type");
    expect(verdict.ok).toBe(false);
    expect(verdict.breaking).toHaveLength(2);
    expect(verdict.report).toMatch(/Field 'name' was removed from object type 'Key'/);
    expect(verdict.report).toMatch(/environment/);
    expect(verdict.report).toContain(BREAKING_MARKER);
  });

  it("passes a breaking change the commit message declares intended", async () => {
    const verdict = await checkContract(BEFORE, BREAKING, `Drop Key.name ${BREAKING_MARKER}`);
    expect(verdict.ok).toBe(true);
    expect(verdict.breaking).toHaveLength(2);
    expect(verdict.report).toContain("marked as intended");
  });
});

describe("the script in a git clone", () => {
  const root = mkdtempSync(path.join(tmpdir(), "keyward-contract-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const script = path.resolve("scripts/contract-guard.ts");
  const tsx = path.resolve("node_modules/.bin/tsx");
  const repo = path.join(root, "repo");
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=CI", ...args], { cwd, encoding: "utf8" });
  const commit = (schema: string, message: string) => {
    writeFileSync(path.join(repo, "schema.graphql"), schema);
    git(repo, "add", "schema.graphql");
    git(repo, "commit", "-q", "--allow-empty", "-m", message);
  };
  const guard = (cwd: string) => spawnSync(tsx, [script], { cwd, encoding: "utf8" });

  it("compares HEAD with its first parent: skipped on the first commit, fails on a breaking one, passes when marked", () => {
    git(root, "init", "-q", repo);
    commit(BEFORE, "first");
    const first = guard(repo);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("skipped, no previous commit");

    commit(ADDITIVE, "add Key.createdAt");
    expect(guard(repo).status).toBe(0);

    commit(BREAKING, "tidy the Key type");
    const refused = guard(repo);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("BREAKING");

    git(repo, "commit", "-q", "--amend", "-m", `drop Key.name\n\n${BREAKING_MARKER}`);
    expect(guard(repo).status).toBe(0);
  });

  it("a shallow clone of depth 1 is skipped with a message, not failed", () => {
    const shallow = path.join(root, "shallow");
    git(root, "clone", "-q", "--depth", "1", `file://${repo}`, shallow);
    const result = guard(shallow);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("skipped");
  });
});
