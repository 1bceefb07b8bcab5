// Writes schema.graphql from the Pothos schema. test/schema/stale.test.ts fails
// when the committed file differs, so run `npm run generate` after schema changes.
import { writeFileSync } from "node:fs";
import { printSchema } from "graphql";
import { schema } from "../server/schema";

writeFileSync(new URL("../schema.graphql", import.meta.url), `${printSchema(schema)}\n`);
console.log("wrote schema.graphql");
