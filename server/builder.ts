import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import type { Context } from "./context";
import { PAGE_SIZE_DESCRIPTION } from "./schema/pagination";

// Configuration only: types live in schema/, one file per noun.
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // Objects are fetched by their plain UUID through typed queries; a global
    // `node` field would be one more door to keep tenant-tight.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    firstArgOptions: { description: PAGE_SIZE_DESCRIPTION },
    lastArgOptions: { description: PAGE_SIZE_DESCRIPTION },
  },
});

builder.queryType({ description: "Read the API: the signed-in user, workspaces and their history." });
builder.mutationType({ description: "Change the API's state. Every mutation takes one `input` argument." });
