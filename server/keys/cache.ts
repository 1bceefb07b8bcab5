import { LRUCache } from "lru-cache";
import type { Db } from "../db";
import { DEPLOYED_SELECT, DeployedKey, type DeploymentPointer } from "../deployments/snapshot";
import type { ApiKey } from "../generated/prisma/client";

// Key records by hash, and workspace switches by id, so a warm verification
// touches no database. Bounded, with bounded negative caching for unknown keys.
//
// Invalidation is synchronous in this process and precedes the mutation's
// answer. The epoch guards the race where a lookup that read the database before
// a revoke commits would store the stale row after the invalidation: such a
// lookup sees the epoch moved and does not store what it read.
//
// Keys as a deployment published them are cached by hash with the deployment
// they came from: deployments never change, so an entry is right for as long as
// its workspace's state (which names the latest deployment) says so.

export interface WorkspaceState {
  id: string;
  slug: string;
  /** The switch verification obeys: the latest deployment's when the workspace requires deploys. */
  keysEnabled: boolean;
  requireDeploy: boolean;
  /** The latest deployment, when the workspace requires deploys and has one. */
  deployment: DeploymentPointer | null;
}

export interface CacheStats {
  hits: number;
  misses: number;
  negativeHits: number;
  dbLookups: number;
}

interface DeployedEntry {
  deploymentId: string;
  /** null: the deployment does not list this key. */
  key: DeployedKey | null;
}

export class KeyCache {
  private readonly keys = new LRUCache<string, ApiKey>({ max: 200_000, ttl: 10 * 60_000 });
  private readonly unknown = new LRUCache<string, true>({ max: 50_000, ttl: 30_000 });
  private readonly workspaces = new LRUCache<string, WorkspaceState>({ max: 50_000, ttl: 10 * 60_000 });
  private readonly deployed = new LRUCache<string, DeployedEntry>({ max: 200_000, ttl: 10 * 60_000 });
  private epoch = 0;
  readonly stats: CacheStats = { hits: 0, misses: 0, negativeHits: 0, dbLookups: 0 };

  constructor(private readonly db: Db) {}

  /** The key when this process holds it, without a promise: the warm path's lookup. */
  cachedKey(hash: string): ApiKey | undefined {
    const cached = this.keys.get(hash);
    if (cached) this.stats.hits++;
    return cached;
  }

  /** The workspace's state when this process holds it. */
  cachedWorkspace(id: string): WorkspaceState | undefined {
    return this.workspaces.get(id);
  }

  async keyByHash(hash: string): Promise<ApiKey | null> {
    const cached = this.keys.get(hash);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    if (this.unknown.get(hash)) {
      this.stats.negativeHits++;
      return null;
    }
    this.stats.misses++;
    const epoch = this.epoch;
    this.stats.dbLookups++;
    const row = await this.db.apiKey.findUnique({ where: { hash } });
    if (epoch === this.epoch) {
      if (row) this.keys.set(hash, row);
      else this.unknown.set(hash, true);
    }
    return row;
  }

  async workspace(id: string): Promise<WorkspaceState | null> {
    const cached = this.workspaces.get(id);
    if (cached) return cached;
    const epoch = this.epoch;
    this.stats.dbLookups++;
    const row = await this.db.workspace.findUnique({
      where: { id },
      select: {
        id: true,
        slug: true,
        keysEnabled: true,
        requireDeploy: true,
        deployments: { orderBy: { version: "desc" }, take: 1, select: { id: true, version: true, keysEnabled: true } },
      },
    });
    if (!row) return null;
    const latest = row.requireDeploy ? (row.deployments[0] ?? null) : null;
    const state: WorkspaceState = {
      id: row.id,
      slug: row.slug,
      keysEnabled: latest ? latest.keysEnabled : row.keysEnabled,
      requireDeploy: row.requireDeploy,
      deployment: latest && { id: latest.id, version: latest.version },
    };
    if (epoch === this.epoch) this.workspaces.set(id, state);
    return state;
  }

  /** The key as this deployment published it, when this process holds it (undefined: not held). */
  cachedDeployedKey(deploymentId: string, hash: string): DeployedKey | null | undefined {
    const entry = this.deployed.get(hash);
    return entry && entry.deploymentId === deploymentId ? entry.key : undefined;
  }

  async deployedKey(deploymentId: string, hash: string): Promise<DeployedKey | null> {
    const cached = this.cachedDeployedKey(deploymentId, hash);
    if (cached !== undefined) return cached;
    this.stats.dbLookups++;
    const row = await this.db.deploymentKey.findUnique({
      where: { deploymentId_hash: { deploymentId, hash } },
      select: DEPLOYED_SELECT,
    });
    // No epoch check: a deployment never changes, so what was read stays true of it.
    const key = row && new DeployedKey(row);
    this.deployed.set(hash, { deploymentId, key });
    return key;
  }

  invalidateKeys(hashes: readonly string[]): void {
    this.epoch++;
    for (const hash of hashes) {
      this.keys.delete(hash);
      this.unknown.delete(hash);
    }
  }

  invalidateWorkspace(id: string): void {
    this.epoch++;
    this.workspaces.delete(id);
  }

  /** After a gap in invalidation messages (a lost connection), trust nothing cached. */
  clear(): void {
    this.epoch++;
    this.keys.clear();
    this.unknown.clear();
    this.workspaces.clear();
    this.deployed.clear();
  }
}
