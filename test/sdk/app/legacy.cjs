// A CommonJS caller: require() gets the package's CommonJS build.
const { createClient, KeywardError, catalogErrorCodes } = require("@keyward/sdk");

const client = createClient({ url: process.argv[2] });
client.createWorkspace({ input: { name: "Nobody", slug: `nobody-cjs-${process.pid}` } }).then(
  () => console.log(JSON.stringify({ error: "createWorkspace answered without a token" })),
  (error) =>
    console.log(
      JSON.stringify({
        keywardError: error instanceof KeywardError,
        code: error.code,
        codes: catalogErrorCodes.length,
      }),
    ),
);
