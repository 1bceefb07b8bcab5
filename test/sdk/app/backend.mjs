// A Node backend as a user would write it: plain `node`, ESM, the SDK installed from its
// tarball. test/sdk/package.test.ts runs it against a real Keyward and reads its output.
import { createClient, KeywardError } from "@keyward/sdk";

const url = process.argv[2];
const anonymous = createClient({ url });
const email = `backend-${process.pid}-${Date.now()}@example.com`;
const { signUp } = await anonymous.signUp({ input: { email, password: "a long passphrase", name: "Backend" } });
const owner = createClient({ url, token: signUp.token });
const slug = `backend-${process.pid}-${Date.now()}`;
const { createWorkspace } = await owner.createWorkspace({ input: { name: "Backend", slug } });
const { createApiKey } = await owner.createApiKey({
  input: {
    workspaceId: createWorkspace.id,
    name: "verifier",
    type: "SECRET",
    environment: "LIVE",
    scopes: ["keys:verify"],
  },
});
// The new key as this backend's own credential, verifying itself.
const verifier = createClient({ url, token: createApiKey.secret });
const { verifyApiKey } = await verifier.verifyApiKey({ input: { key: createApiKey.secret } });

let refusal;
try {
  await anonymous.createWorkspace({ input: { name: "Nobody", slug: `nobody-${process.pid}` } });
} catch (error) {
  refusal =
    error instanceof KeywardError ? { name: error.name, code: error.code, status: error.status } : String(error);
}
console.log(JSON.stringify({ start: createApiKey.apiKey.start, verify: verifyApiKey, refusal }));
