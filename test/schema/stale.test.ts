import { readFileSync } from "node:fs";
import { generate } from "@graphql-codegen/cli";
import { printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import codegenConfig from "../../codegen";
import { ERROR_CODES_FILE, renderErrorCodes } from "../../scripts/error-codes";
import { renderSdkList, SDK_LISTS } from "../../scripts/sdk-lists";
import { schema } from "../../server/schema";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("committed generated files", () => {
  it("schema.graphql is the printed Pothos schema (run `npm run generate`)", () => {
    expect(read("schema.graphql")).toBe(`${printSchema(schema)}\n`);
  });

  it("the SDK's generated operations match schema.graphql and sdk/operations (run `npm run codegen`)", async () => {
    const outputs = (await generate({ ...codegenConfig, cwd: new URL(".", root).pathname, silent: true }, false)) as {
      filename: string;
      content: string;
    }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const committed = read(output.filename.replace(new URL(".", root).pathname, ""));
      expect(committed, output.filename).toBe(output.content);
    }
  });

  it("the SDK's error-code union matches server/errors.ts's catalog (run `npm run generate`)", () => {
    expect(read(ERROR_CODES_FILE)).toBe(renderErrorCodes());
  });

  it.each(SDK_LISTS.map((list) => [list.file, list.source, list] as const))(
    "the SDK's %s matches %s (run `npm run generate`)",
    (file, _source, list) => {
      expect(read(file)).toBe(renderSdkList(list));
    },
  );
});
