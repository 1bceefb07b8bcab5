import { afterAll, beforeAll, expect, it } from "vitest";
import { type ServerProcess, waitFor } from "../helpers/processes";
import { type Owner, serverEnv, signUpOwner, startServer, verifyRest } from "./fixture";
import { type Cluster, startCluster } from "./postgres";
import { type CuttingProxy, startProxy } from "./proxy";

// The usage flush's one hazard that no kill of the server shows: the database
// commits the flush, and the connection drops before the answer arrives. The
// server lives on and must not write those counts again.

const FLUSH_MS = 300;

let cluster: Cluster;
let proxy: CuttingProxy;
let server: ServerProcess;
let owner: Owner;

beforeAll(async () => {
  cluster = await startCluster();
  proxy = await startProxy({ host: "127.0.0.1", port: cluster.port });
  const url = new URL(cluster.url);
  url.port = String(proxy.port);
  server = await startServer(serverEnv(url.toString(), { KEYWARD_USAGE_FLUSH_MS: String(FLUSH_MS) }));
  owner = await signUpOwner(server, "in-doubt");
}, 120_000);

afterAll(async () => {
  server?.kill();
  await proxy?.close();
  await cluster?.remove();
});

const counted = async (keyId: string) =>
  Number(
    (
      await cluster.sql<{ n: string | null }>(
        "SELECT sum(count) AS n FROM api_key_usage WHERE key_id = $1 AND outcome = 'VALID'",
        [keyId],
      )
    )[0]?.n ?? 0,
  );

/** Verifies a fresh key 60 times while the next usage write loses its connection `when`. */
async function countedOnceWhenCut(when: "committed" | "answered") {
  const verifier = await owner.createKey(["keys:verify"], "verifier");
  const target = await owner.createKey([], "target");
  // Let earlier flushes (sign-up, key creation) pass, then cut the next usage write.
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS * 3));
  const cutsBefore = proxy.cuts();
  proxy.arm("INSERT INTO api_key_usage", when);
  let acknowledged = 0;
  for (let i = 0; i < 60; i++) {
    if ((await verifyRest(server, verifier.secret, target.secret)).code === "VALID") acknowledged++;
  }
  await waitFor(async () => proxy.cuts() > cutsBefore, 10_000);
  // Several flushes later: whatever the server kept back has been written.
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS * 8));
  const total = await counted(target.id);
  console.log(`[faults] usage flush cut (${when}): ${acknowledged} verifications acknowledged, ${total} counted`);
  expect(acknowledged).toBe(60);
  expect(total).toBe(acknowledged);
}

it("a flush whose commit answer is lost is not written again: every use counted exactly once", async () => {
  await countedOnceWhenCut("committed");
});

it("a flush cut before its commit is written again: no use is lost", async () => {
  await countedOnceWhenCut("answered");
});
