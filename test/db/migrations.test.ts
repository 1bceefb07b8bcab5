import { createHash, randomUUID } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db";
import * as enums from "../../server/generated/prisma/enums";
import { migrate, migrationsDir } from "../../server/migrations";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

// Drift check between the generated Prisma client and what the migrations build.
// The client's runtime data model lists models, fields and column names but not
// optionality or relations, so those come from the schema text the client was
// generated from (kept in the client as its inline schema); the two are
// cross-checked so that a parsing mistake fails loudly instead of passing quietly.

interface RuntimeField {
  name: string;
  kind: "scalar" | "enum" | "object" | "unsupported";
  type: string;
  dbName?: string | null;
}
interface RuntimeModel {
  fields: RuntimeField[];
  dbName: string | null;
}
interface RuntimeDataModel {
  models: Record<string, RuntimeModel>;
}

interface SchemaField {
  name: string;
  type: string;
  optional: boolean;
  list: boolean;
  isId: boolean;
  /** For a relation field: its own foreign-key fields and the fields they reference. */
  relation?: { fields: string[]; references: string[] };
}

function parseSchema(schema: string): Map<string, SchemaField[]> {
  const models = new Map<string, SchemaField[]>();
  let current: SchemaField[] | null = null;
  for (const rawLine of schema.split("\n")) {
    const line = rawLine.replace(/\/\/.*$/, "").trim();
    if (!line) continue;
    const start = /^model\s+(\w+)\s*\{$/.exec(line);
    if (start?.[1]) {
      current = [];
      models.set(start[1], current);
      continue;
    }
    if (line === "}") {
      current = null;
      continue;
    }
    if (!current || line.startsWith("@@")) continue;
    const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
    if (!field?.[1] || !field[2]) throw new Error(`cannot parse model line: ${line}`);
    const attrs = field[5] ?? "";
    const relation = /@relation\([^)]*fields:\s*\[([^\]]*)\][^)]*references:\s*\[([^\]]*)\]/.exec(attrs);
    const names = (list: string | undefined) => (list ?? "").split(",").map((s) => s.trim());
    current.push({
      name: field[1],
      type: field[2],
      list: field[3] === "[]",
      optional: field[4] === "?",
      isId: /@id\b/.test(attrs),
      ...(relation ? { relation: { fields: names(relation[1]), references: names(relation[2]) } } : {}),
    });
  }
  return models;
}

const ENUMS = enums as unknown as Record<string, Record<string, string>>;

interface ColumnRow {
  table_name: string;
  column_name: string;
  is_nullable: "YES" | "NO";
  data_type: string;
  udt_name: string;
}

/** Postgres column types that can hold each Prisma scalar type. */
const COLUMN_TYPES: Record<string, string[]> = {
  String: ["text", "uuid", "varchar", "bpchar"],
  Boolean: ["bool"],
  Int: ["int4", "int2"],
  BigInt: ["int8"],
  Float: ["float8", "float4"],
  Decimal: ["numeric"],
  DateTime: ["timestamptz", "timestamp", "date"],
  Json: ["jsonb", "json"],
  Bytes: ["bytea"],
};

let testDb: TestDatabase;
let db: Db;
let runtime: RuntimeDataModel;
let schemaModels: Map<string, SchemaField[]>;

beforeAll(async () => {
  testDb = await openTestDatabase();
  db = testDb.database.prisma;
  const client = db as unknown as { _runtimeDataModel?: RuntimeDataModel; _engineConfig?: { inlineSchema?: string } };
  if (!client._runtimeDataModel || typeof client._engineConfig?.inlineSchema !== "string") {
    throw new Error("the Prisma client no longer exposes _runtimeDataModel / inlineSchema: update this test");
  }
  runtime = client._runtimeDataModel;
  schemaModels = parseSchema(client._engineConfig.inlineSchema);
});
afterAll(() => testDb.drop());

const tableOf = (name: string) => runtime.models[name]?.dbName ?? name;
const columnFields = (model: RuntimeModel) => model.fields.filter((f) => f.kind === "scalar" || f.kind === "enum");
const schemaField = (model: string, field: string) => {
  const found = schemaModels.get(model)?.find((f) => f.name === field);
  if (!found) throw new Error(`${model}.${field} is not in the inline schema`);
  return found;
};

async function publicColumns(): Promise<ColumnRow[]> {
  return db.$queryRawUnsafe<ColumnRow[]>(
    `SELECT table_name, column_name, is_nullable, data_type, udt_name
     FROM information_schema.columns WHERE table_schema = 'public'`,
  );
}

describe("the schema the migrations build matches the Prisma client", () => {
  it("knows the models (a sanity check on the data model itself)", () => {
    const names = Object.keys(runtime.models).sort();
    expect(names.length).toBeGreaterThanOrEqual(5);
    expect(names).toEqual(expect.arrayContaining(["AuditEvent", "Membership", "Session", "User", "Workspace"]));
    expect([...schemaModels.keys()].sort()).toEqual(names);
    for (const [name, model] of Object.entries(runtime.models)) {
      const fromSchema = schemaModels.get(name)?.map((f) => f.name);
      expect(fromSchema, name).toEqual(model.fields.map((f) => f.name));
      for (const field of model.fields) {
        expect(schemaField(name, field.name).type, `${name}.${field.name}`).toBe(field.type);
      }
    }
  });

  it("has every scalar field as a column, with the right nullability and type", async () => {
    const columns = await publicColumns();
    const problems: string[] = [];
    for (const [name, model] of Object.entries(runtime.models)) {
      const table = tableOf(name);
      for (const field of columnFields(model)) {
        const column = field.dbName ?? field.name;
        const row = columns.find((c) => c.table_name === table && c.column_name === column);
        const where = `${name}.${field.name} (${table}.${column})`;
        if (!row) {
          problems.push(`${where}: no such column`);
          continue;
        }
        const declared = schemaField(name, field.name);
        if (declared.list) {
          if (row.data_type !== "ARRAY") problems.push(`${where}: list field but column is ${row.data_type}`);
        }
        const nullable = row.is_nullable === "YES";
        // Prisma has no optional lists (`String[]?` is not valid) and `prisma migrate`
        // itself creates list columns without NOT NULL, so either is in sync for a list.
        if (!declared.list && nullable !== declared.optional) {
          problems.push(
            `${where}: column is ${nullable ? "NULL" : "NOT NULL"} but the field is ${declared.optional ? "optional" : "required"}`,
          );
        }
        const udt = declared.list ? row.udt_name.replace(/^_/, "") : row.udt_name;
        if (field.kind === "enum") {
          if (row.data_type !== "USER-DEFINED" && !declared.list)
            problems.push(`${where}: enum stored as ${row.data_type}`);
          if (udt !== field.type) problems.push(`${where}: enum column of type ${udt}, expected ${field.type}`);
        } else {
          const allowed = COLUMN_TYPES[field.type];
          if (!allowed)
            problems.push(`${where}: no known column types for Prisma type ${field.type}; extend COLUMN_TYPES`);
          else if (!allowed.includes(udt)) problems.push(`${where}: column type ${udt}, expected one of ${allowed}`);
        }
      }
      const expected = new Set(columnFields(model).map((f) => f.dbName ?? f.name));
      for (const column of columns.filter((c) => c.table_name === table)) {
        if (!expected.has(column.column_name))
          problems.push(`${table}.${column.column_name}: column has no field in ${name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("has no table that belongs to no model", async () => {
    const tables = await db.$queryRawUnsafe<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const modelTables = Object.keys(runtime.models).map(tableOf).sort();
    const actual = tables
      .map((t) => t.table_name)
      .filter((t) => t !== "_prisma_migrations")
      .sort();
    expect(actual).toEqual(modelTables);
    expect(tables.map((t) => t.table_name)).toContain("_prisma_migrations");
  });

  it("has every enum of the client as a database type with the same values", async () => {
    const rows = await db.$queryRawUnsafe<{ typname: string; label: string }[]>(
      `SELECT t.typname, e.enumlabel AS label FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`,
    );
    const enumTypes = new Set(
      Object.values(runtime.models).flatMap((m) => m.fields.filter((f) => f.kind === "enum").map((f) => f.type)),
    );
    expect(enumTypes.size).toBeGreaterThan(0);
    for (const type of enumTypes) {
      const values = ENUMS[type];
      expect(values, `enum ${type} in the generated enums`).toBeDefined();
      expect(rows.filter((r) => r.typname === type).map((r) => r.label)).toEqual(Object.values(values ?? {}));
    }
  });
});

describe("every model round-trips through the client", () => {
  let counter = 0;

  /** Models ordered so that every model comes after the models its foreign keys point at. */
  function writeOrder(): string[] {
    const names = Object.keys(runtime.models);
    const deps = new Map(
      names.map((name) => [
        name,
        (schemaModels.get(name) ?? []).filter((f) => f.relation?.fields.length).map((f) => f.type),
      ]),
    );
    const order: string[] = [];
    const visit = (name: string, stack: string[]) => {
      if (order.includes(name)) return;
      if (stack.includes(name)) throw new Error(`foreign-key cycle: ${[...stack, name].join(" → ")}`);
      for (const dep of deps.get(name) ?? []) if (dep !== name) visit(dep, [...stack, name]);
      order.push(name);
    };
    for (const name of names) visit(name, []);
    return order;
  }

  function valueFor(model: string, field: RuntimeField): unknown {
    counter += 1;
    if (field.kind === "enum") {
      const values = Object.values(ENUMS[field.type] ?? {});
      if (!values.length) throw new Error(`no values for enum ${field.type}`);
      // The last value, which is rarely the default, so a dropped write shows.
      return values[values.length - 1];
    }
    switch (field.type) {
      case "String":
        return randomUUID();
      case "Boolean":
        return counter % 2 === 0;
      case "Int":
        return 1000 + counter;
      case "BigInt":
        return 1_000_000_000_000n + BigInt(counter);
      case "Float":
        return counter + 0.5;
      case "DateTime":
        return new Date(Date.UTC(2031, 1, 3, 4, 5, 6, counter % 1000));
      case "Json":
        return { drift: "check", n: counter, nested: { list: [1, "two", null, { three: true }] } };
      default:
        throw new Error(`${model}.${field.name}: no test value for type ${field.type}; extend valueFor`);
    }
  }

  it("writes and reads back one row of every model with all scalar fields set, and one with optionals null", async () => {
    const created = new Map<string, Record<string, unknown>>();
    const written: string[] = [];
    for (const name of writeOrder()) {
      const model = runtime.models[name] as RuntimeModel;
      const fields = schemaModels.get(name) ?? [];
      const build = (nullOptionals: boolean) => {
        const row: Record<string, unknown> = {};
        for (const field of columnFields(model)) {
          const declared = schemaField(name, field.name);
          if (nullOptionals && declared.optional) row[field.name] = null;
          else if (declared.list) row[field.name] = [valueFor(name, field), valueFor(name, field)];
          else row[field.name] = valueFor(name, field);
        }
        // Foreign keys point at real rows: the parent written before, or this row itself.
        for (const relation of fields) {
          const fks = relation.relation?.fields ?? [];
          if (!fks.length) continue;
          const parent = relation.type === name ? row : created.get(relation.type);
          if (!parent) throw new Error(`${name} needs a ${relation.type} first`);
          fks.forEach((fk, i) => {
            if (row[fk] === null) return;
            row[fk] = parent[relation.relation?.references[i] ?? ""];
          });
        }
        return row;
      };
      const idField = fields.find((f) => f.isId);
      // Models with a composite @@id are found by all their plain columns (random values: unique).
      const whereOf = (row: Record<string, unknown>) =>
        idField
          ? { [idField.name]: row[idField.name] }
          : Object.fromEntries(
              columnFields(model)
                .filter((f) => f.type !== "Json" && !schemaField(name, f.name).list && row[f.name] !== null)
                .map((f) => [f.name, row[f.name]]),
            );
      const delegateName = name.charAt(0).toLowerCase() + name.slice(1);
      const delegate = (db as unknown as Record<string, DelegateLike>)[delegateName];
      if (!delegate) throw new Error(`the client has no delegate ${delegateName}`);

      const full = build(false);
      const returned = await delegate.create({ data: full });
      expect(returned, `${name} create result`).toEqual(full);
      const read = await delegate.findFirstOrThrow({ where: whereOf(full) });
      expect(read, `${name} read back`).toEqual(full);
      created.set(name, full);

      if (columnFields(model).some((f) => schemaField(name, f.name).optional)) {
        const sparse = build(true);
        await delegate.create({ data: sparse });
        const readSparse = await delegate.findFirstOrThrow({ where: whereOf(sparse) });
        expect(readSparse, `${name} with optionals null`).toEqual(sparse);
      }
      written.push(name);
    }
    // Every model of the client was exercised: a new model cannot slip past this test.
    expect(written.sort()).toEqual(Object.keys(runtime.models).sort());
  });
});

interface DelegateLike {
  create(args: { data: Record<string, unknown> }): Promise<unknown>;
  findFirstOrThrow(args: { where: Record<string, unknown> }): Promise<unknown>;
}

describe("migrate()", () => {
  it("recorded every migration in _prisma_migrations with its checksum", async () => {
    const dirs = readdirSync(migrationsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(dirs.length).toBeGreaterThan(0);
    const rows = await db.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: Date | null }[]>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => r.migration_name)).toEqual(dirs);
    for (const row of rows) {
      const sql = readFileSync(path.join(migrationsDir, row.migration_name, "migration.sql"), "utf8");
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).not.toBeNull();
    }
  });

  it("applies nothing the second time", async () => {
    const before = await db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM "_prisma_migrations"`);
    expect(await migrate(testDb.database)).toEqual({ applied: [] });
    expect(await migrate(testDb.database)).toEqual({ applied: [] });
    const after = await db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM "_prisma_migrations"`);
    expect(after).toEqual(before);
  });

  describe("from a copy of the migrations directory", () => {
    let other: TestDatabase;
    let dir: string;
    const extra = "29991231235959_drift_probe";
    const later = "29991231235960_later_probe";

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), "keyward-migrations-"));
      cpSync(migrationsDir, dir, { recursive: true });
      other = await openTestDatabase();
    });
    afterAll(async () => {
      await other.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const tableExists = async (name: string) => {
      const rows = await other.database.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`,
        name,
      );
      return rows[0]?.n === 1;
    };

    const addMigration = (name: string, sql: string) => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, "migration.sql"), sql);
    };

    it("applies only what is new in that directory", async () => {
      addMigration(extra, `CREATE TABLE "drift_probe" ("id" INTEGER PRIMARY KEY);\n`);
      expect(await migrate(other.database, dir)).toEqual({ applied: [extra] });
      expect(await tableExists("drift_probe")).toBe(true);
      expect(await migrate(other.database, dir)).toEqual({ applied: [] });
    });

    it("refuses to run when an applied migration was edited, and applies nothing new", async () => {
      addMigration(later, `CREATE TABLE "later_probe" ("id" INTEGER PRIMARY KEY);\n`);
      const file = path.join(dir, extra, "migration.sql");
      const original = readFileSync(file, "utf8");
      writeFileSync(file, `${original}ALTER TABLE "drift_probe" ADD COLUMN "sneaky" TEXT;\n`);
      await expect(migrate(other.database, dir)).rejects.toThrow(/was edited/);
      await expect(migrate(other.database, dir)).rejects.toThrow(extra);
      expect(await tableExists("later_probe")).toBe(false);

      // Even a whitespace-only edit counts: the checksum is of the file as written.
      writeFileSync(file, `${original}\n`);
      await expect(migrate(other.database, dir)).rejects.toThrow(/was edited/);

      writeFileSync(file, original);
      expect(await migrate(other.database, dir)).toEqual({ applied: [later] });
      expect(await tableExists("later_probe")).toBe(true);
    });

    it("refuses an edit to the initial migration too", async () => {
      const init = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()[0] as string;
      const file = path.join(dir, init, "migration.sql");
      writeFileSync(file, readFileSync(file, "utf8").replace('"email" TEXT NOT NULL', '"email" TEXT'));
      await expect(migrate(other.database, dir)).rejects.toThrow(new RegExp(`${init}.*was edited`));
    });
  });
});
