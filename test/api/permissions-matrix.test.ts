import { readFileSync, writeFileSync } from "node:fs";
import type { GraphQLField } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../server/schema";
import { startTestApp, type TestApp } from "../helpers/app";
import {
  fieldPaths,
  pathDocument,
  pathName,
  pathOutcome,
  rootDocument,
  rootOutcome,
  send,
} from "../helpers/matrix/probe";
import { MUTATION_RECIPES, QUERY_RECIPES, type Recipe } from "../helpers/matrix/recipes";
import { type Row, renderPermissions } from "../helpers/matrix/render";
import { buildWorld, CALLERS, type CallerName, type World } from "../helpers/matrix/world";

// The authorization matrix: every query, every mutation and every object field
// below the queries, called by every kind of caller. The operations come from the
// schema, not from a list kept here, and the outcomes are compared with the
// committed docs/permissions.md: a rule that changes (or disappears) fails this
// test until the document is regenerated and the diff reviewed.

const DOC = new URL("../../docs/permissions.md", import.meta.url);

let app: TestApp;
let world: World;
beforeAll(async () => {
  app = await startTestApp();
  world = await buildWorld(app);
});
afterAll(() => app.close());

type Field = GraphQLField<unknown, unknown>;
const queryFields = Object.values(schema.getQueryType()?.getFields() ?? {}) as Field[];
const mutationFields = Object.values(schema.getMutationType()?.getFields() ?? {}) as Field[];

async function operationRow(kind: "query" | "mutation", field: Field, recipe: Recipe): Promise<Row> {
  const cells = {} as Record<CallerName, string>;
  const document = rootDocument(kind, field);
  for (const name of CALLERS) {
    const caller = recipe.ownSession
      ? { ...world.callers[name], headers: await world.freshHeaders(name) }
      : world.callers[name];
    cells[name] = rootOutcome(field.name, await send(world, caller, document, await recipe.args(world, name)));
  }
  return { name: `\`${kind} ${field.name}\``, cells };
}

async function fieldRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const path of fieldPaths(schema)) {
    const recipe = QUERY_RECIPES[path.root.name];
    if (!recipe) continue;
    const cells = {} as Record<CallerName, string>;
    for (const name of CALLERS) {
      cells[name] = pathOutcome(
        path,
        await send(world, world.callers[name], pathDocument(path), await recipe.args(world, name)),
      );
    }
    if (CALLERS.some((c) => cells[c] !== "✓" && cells[c] !== "—")) rows.push({ name: `\`${pathName(path)}\``, cells });
  }
  return rows;
}

/** The plain-HTTP routes: the verifier's own credential, and forward-auth with the caller's credential as the key. */
async function httpRows(): Promise<Row[]> {
  const routes = {
    "`POST /v1/keys/verify`": (headers: Record<string, string>) =>
      app.fetch("/v1/keys/verify", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ key: world.liveKey.secret }),
      }),
    "`GET /v1/authorize`": (headers: Record<string, string>) => app.fetch("/v1/authorize", { headers }),
  };
  const rows: Row[] = [];
  for (const [name, call] of Object.entries(routes)) {
    const cells = {} as Record<CallerName, string>;
    for (const caller of CALLERS) {
      const response = await call(world.callers[caller].headers);
      const body = (await response.json()) as { code?: string; error?: { code: string } };
      cells[caller] =
        response.status === 200
          ? `✓${body.code && body.code !== "VALID" ? ` ${body.code}` : ""}`
          : (body.error?.code ?? String(response.status));
    }
    rows.push({ name, cells });
  }
  return rows;
}

describe("authorization matrix (docs/permissions.md)", () => {
  it("has a recipe for every query and mutation of the schema", () => {
    expect(queryFields.map((f) => f.name).filter((name) => !QUERY_RECIPES[name])).toEqual([]);
    expect(mutationFields.map((f) => f.name).filter((name) => !MUTATION_RECIPES[name])).toEqual([]);
  });

  it("the live rules are exactly the committed document", { timeout: 180_000 }, async () => {
    // Fields first: the mutations below add keys and members that would change what the lists show.
    const fields = await fieldRows();
    const operations: Row[] = [];
    for (const field of queryFields)
      operations.push(await operationRow("query", field, QUERY_RECIPES[field.name] as Recipe));
    for (const field of mutationFields) {
      operations.push(await operationRow("mutation", field, MUTATION_RECIPES[field.name] as Recipe));
    }
    // A stray error is a probe the server refused as a document (a limit), not a rule.
    const stray = fields.flatMap((row) => Object.values(row.cells)).filter((cell) => cell.startsWith("error:"));
    expect(stray).toEqual([]);
    const rendered = renderPermissions({ operations, fields, http: await httpRows() });
    if (process.env.UPDATE_PERMISSIONS === "1") writeFileSync(DOC, rendered);
    expect(readFileSync(DOC, "utf8"), "run `npm run docs:permissions` and review the diff").toBe(rendered);
  });
});
