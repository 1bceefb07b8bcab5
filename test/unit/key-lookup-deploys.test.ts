import { describe, expect, it, vi } from "vitest";
import type { DeployedKey } from "../../server/deployments/snapshot";
import type { ApiKey } from "../../server/generated/prisma/client";
import type { KeyCache, WorkspaceState } from "../../server/keys/cache";
import { generateKey, hashKey } from "../../server/keys/format";
import { lookupKey } from "../../server/keys/lookup";

// The lookup in a workspace that requires deploys (server/keys/lookup.ts), against a
// cache of plain functions: which deployment answers, what "not deployed" means, and
// that a warm deployed key is answered from memory without the asynchronous path.

const presented = generateKey("SECRET", "LIVE");
const key = { id: "k-1", workspaceId: "w-1", revokedImmediately: false, scopes: ["keys:read"] } as unknown as ApiKey;
const deployment = { id: "d-7", version: 7 };
const published = { apply: (k: ApiKey) => ({ ...k, scopes: ["from-deployment"] }) } as unknown as DeployedKey;

function cacheWith(workspace: Partial<WorkspaceState>, options: { row?: ApiKey; held?: DeployedKey | null } = {}) {
  const state = { id: "w-1", requireDeploy: true, deployment, ...workspace } as WorkspaceState;
  const deployedKey = vi.fn(async () => published);
  const cache = {
    cachedKey: (hash: string) => (hash === hashKey(presented) ? (options.row ?? key) : undefined),
    keyByHash: async () => null,
    cachedWorkspace: () => state,
    workspace: async () => state,
    cachedInactiveServices: () => new Set<string>(),
    inactiveServices: async () => new Set<string>(),
    cachedDeployedKey: () => options.held,
    deployedKey,
  };
  return { cache: cache as unknown as KeyCache, deployedKey };
}

describe("lookupKey where the workspace requires deploys", () => {
  it("a workspace with no deployment yet has no key deployed, and names no version", async () => {
    const { cache } = cacheWith({ deployment: null });
    expect(await lookupKey(cache, presented)).toMatchObject({ found: true, deployed: false, deploymentVersion: null });
  });

  it("a key revoked with `immediate` is answered as its own row, deployed or not", async () => {
    const braked = { ...key, revokedImmediately: true } as ApiKey;
    const { cache, deployedKey } = cacheWith({}, { row: braked });
    expect(await lookupKey(cache, presented)).toMatchObject({
      found: true,
      key: braked,
      deployed: true,
      deploymentVersion: 7,
    });
    expect(deployedKey).not.toHaveBeenCalled();
  });

  it("a key the deployment lists is answered as the deployment published it", async () => {
    const { cache } = cacheWith({}, { held: published });
    const found = await lookupKey(cache, presented);
    expect(found).toMatchObject({
      found: true,
      deployed: true,
      deploymentVersion: 7,
      key: { scopes: ["from-deployment"] },
    });
  });

  it("a warm answer — listed or known not to be — never takes the asynchronous path", async () => {
    for (const held of [published, null]) {
      const { cache, deployedKey } = cacheWith({}, { held });
      const found = await lookupKey(cache, presented);
      expect(found).toMatchObject({ found: true, deployed: held !== null, deploymentVersion: 7 });
      expect(deployedKey).not.toHaveBeenCalled();
    }
  });

  it("a cold one asks the cache's asynchronous lookup once", async () => {
    const { cache, deployedKey } = cacheWith({}, { held: undefined });
    expect(await lookupKey(cache, presented)).toMatchObject({ deployed: true });
    expect(deployedKey).toHaveBeenCalledWith("d-7", hashKey(presented));
  });
});
