import { LRUCache } from "lru-cache";
import type { Db } from "../db";
import { isDatabaseUnavailable } from "../db-unavailable";
import { DEPLOYED_SELECT, DeployedKey, type DeploymentPointer } from "../deployments/snapshot";
import type { ApiKey, PlatformKey } from "../generated/prisma/client";
import { compactKey } from "./compact";
import { type InactiveServices, NO_INACTIVE_SERVICES } from "./status";

// Key records by hash, and workspace and service switches by workspace id, so a
// warm verification touches no database. Bounded, with bounded negative caching for unknown keys.
// Platform keys (server/platform/) are cached here too, by hash beside workspace
// keys: one invalidation message ("keys", hashes) drops either kind, in this
// instance and in every other.
//
// Invalidation is synchronous in this process and precedes the mutation's
// answer. The epoch guards the race where a lookup that read the database before
// a revoke commits would store the stale row after the invalidation: such a
// lookup sees the epoch moved and does not store what it read.
//
// Keys as a deployment published them are cached by hash with the deployment
// they came from: deployments never change, so an entry is right for as long as
// its workspace's state (which names the latest deployment) says so.
//
// While invalidation messages may be missed (the listening connection is down:
// server/keys/invalidation.ts) the cache is distrusted: nothing is answered from it
// unread; every lookup reads the database, and only when the database cannot be
// reached at all does the last thing read answer (nothing can change in a database
// nobody reaches). Once messages flow again everything held is dropped.

export interface WorkspaceState {
  id: string;
  slug: string;
  /** The switch verification obeys: the latest deployment's when the workspace requires deploys. */
  keysEnabled: boolean;
  requireAudienceToken: boolean;
  requireDeploy: boolean;
  /** The latest deployment, when the workspace requires deploys and has one. */
  deployment: DeploymentPointer | null;
}

/**
 * A cache kept beside this one (server/audience/cache.ts) that must forget what
 * it holds exactly when this one does: every invalidation reaches it too.
 */
export interface CacheFollower {
  invalidateKeys(hashes: readonly string[]): void;
  invalidateWorkspace(id: string): void;
  clear(): void;
}

export interface CacheStats {
  hits: number;
  misses: number;
  negativeHits: number;
  dbLookups: number;
  /** Answers given from a distrusted cache because the database could not be reached. */
  staleAnswers: number;
}

interface DeployedEntry {
  deploymentId: string;
  /** null: the deployment does not list this key. */
  key: DeployedKey | null;
}

export class KeyCache {
  // A cached key costs about 2.3 KB of heap (measured in bench/README.md): the
  // default 20,000 is ~50 MB; keys beyond it are read from the database again.
  private readonly keys: LRUCache<string, ApiKey>;
  private readonly unknown = new LRUCache<string, true>({ max: 50_000, ttl: 30_000 });
  private readonly workspaces = new LRUCache<string, WorkspaceState>({ max: 50_000, ttl: 10 * 60_000 });
  private readonly platformKeys = new LRUCache<string, PlatformKey>({ max: 10_000, ttl: 10 * 60_000 });
  private readonly services = new LRUCache<string, InactiveServices>({ max: 50_000, ttl: 10 * 60_000 });
  private readonly deployed: LRUCache<string, DeployedEntry>;
  /** Beginnings of imported foreign keys (see lookup.ts); null until read. */
  private prefixes: readonly string[] | null = null;
  private epoch = 0;
  private trusted = true;
  private readonly followers: CacheFollower[] = [];
  readonly stats: CacheStats = { hits: 0, misses: 0, negativeHits: 0, dbLookups: 0, staleAnswers: 0 };

  constructor(
    private readonly db: Db,
    size = 20_000,
  ) {
    this.keys = new LRUCache({ max: size, ttl: 10 * 60_000 });
    this.deployed = new LRUCache({ max: size, ttl: 10 * 60_000 });
  }

  follow(follower: CacheFollower): void {
    this.followers.push(follower);
  }

  /** The key when this process holds it, without a promise: the warm path's lookup. */
  cachedKey(hash: string): ApiKey | undefined {
    const cached = this.trusted ? this.keys.get(hash) : undefined;
    if (cached) this.stats.hits++;
    return cached;
  }

  /** The workspace's state when this process holds it. */
  cachedWorkspace(id: string): WorkspaceState | undefined {
    return this.trusted ? this.workspaces.get(id) : undefined;
  }

  /** The workspace's switched-off services when this process holds them. */
  cachedInactiveServices(workspaceId: string): InactiveServices | undefined {
    return this.trusted ? this.services.get(workspaceId) : undefined;
  }

  async keyByHash(hash: string): Promise<ApiKey | null> {
    return this.byHash(this.keys, hash, async () => {
      const row = await this.db.apiKey.findUnique({ where: { hash } });
      return row && compactKey(row);
    });
  }

  /** The platform key when this process holds it, without a promise. */
  cachedPlatformKey(hash: string): PlatformKey | undefined {
    const cached = this.trusted ? this.platformKeys.get(hash) : undefined;
    if (cached) this.stats.hits++;
    return cached;
  }

  async platformKeyByHash(hash: string): Promise<PlatformKey | null> {
    return this.byHash(this.platformKeys, hash, () => this.db.platformKey.findUnique({ where: { hash } }));
  }

  // Hashes of the two kinds never collide (their prefixes differ), so they share
  // the negative cache.
  private async byHash<T extends {}>(
    store: LRUCache<string, T>,
    hash: string,
    read: () => Promise<T | null>,
  ): Promise<T | null> {
    const cached = store.get(hash);
    if (cached && this.trusted) {
      this.stats.hits++;
      return cached;
    }
    if (this.trusted && this.unknown.get(hash)) {
      this.stats.negativeHits++;
      return null;
    }
    this.stats.misses++;
    const epoch = this.epoch;
    this.stats.dbLookups++;
    const row = await this.read(read, cached ?? (this.unknown.get(hash) ? null : undefined));
    if (epoch === this.epoch) {
      if (row) store.set(hash, row);
      else this.unknown.set(hash, true);
    }
    return row;
  }

  async workspace(id: string): Promise<WorkspaceState | null> {
    const cached = this.workspaces.get(id);
    if (cached && this.trusted) return cached;
    const epoch = this.epoch;
    this.stats.dbLookups++;
    const state = await this.read(() => this.readWorkspace(id), cached);
    if (state && epoch === this.epoch) this.workspaces.set(id, state);
    return state;
  }

  private async readWorkspace(id: string): Promise<WorkspaceState | null> {
    const row = await this.db.workspace.findUnique({
      where: { id },
      select: {
        id: true,
        slug: true,
        keysEnabled: true,
        requireAudienceToken: true,
        requireDeploy: true,
        deployments: { orderBy: { version: "desc" }, take: 1, select: { id: true, version: true, keysEnabled: true } },
      },
    });
    if (!row) return null;
    const latest = row.requireDeploy ? (row.deployments[0] ?? null) : null;
    return {
      id: row.id,
      slug: row.slug,
      keysEnabled: latest ? latest.keysEnabled : row.keysEnabled,
      requireAudienceToken: row.requireAudienceToken,
      requireDeploy: row.requireDeploy,
      deployment: latest && { id: latest.id, version: latest.version },
    };
  }

  /**
   * The key as this deployment published it, when this process holds it (undefined:
   * not held). Trusted even when the cache is not: a deployment never changes.
   */
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

  /** Only the switched-off services are read: most workspaces have none, and unknown means on. */
  async inactiveServices(workspaceId: string): Promise<InactiveServices> {
    const cached = this.services.get(workspaceId);
    if (cached && this.trusted) return cached;
    const epoch = this.epoch;
    this.stats.dbLookups++;
    const state = await this.read(async (): Promise<InactiveServices> => {
      const rows = await this.db.service.findMany({
        where: { workspaceId, active: false },
        select: { id: true, slug: true },
      });
      return rows.length
        ? { byId: new Map(rows.map((row) => [row.id, row.slug])), slugs: new Set(rows.map((row) => row.slug)) }
        : NO_INACTIVE_SERVICES;
    }, cached);
    if (epoch === this.epoch) this.services.set(workspaceId, state);
    return state;
  }

  /**
   * Reads the database; while distrusted and the database is unreachable, answers
   * what was held instead (undefined: nothing was held, so the failure stands).
   */
  private async read<T>(fetch: () => Promise<T>, held: T | undefined): Promise<T> {
    try {
      return await fetch();
    } catch (error) {
      if (this.trusted || held === undefined || !isDatabaseUnavailable(error)) throw error;
      this.stats.staleAnswers++;
      return held;
    }
  }

  /** Invalidation messages may be missed from now on: answer nothing held without reading the database. */
  distrust(): void {
    this.trusted = false;
    // The caches that follow this one cannot answer from stale entries: they forget.
    for (const follower of this.followers) follower.clear();
  }

  /** Messages flow again: what was held may have missed some, so it is dropped, and the cache is trusted again. */
  trust(): void {
    this.clear();
    this.trusted = true;
  }

  /** The imported-key prefixes when this process holds them, without a promise. */
  cachedImportedPrefixes(): readonly string[] | undefined {
    return this.prefixes ?? undefined;
  }

  /** Read once per process (and again after an import): a few rows, usually none. */
  async importedPrefixes(): Promise<readonly string[]> {
    if (this.prefixes) return this.prefixes;
    const epoch = this.epoch;
    this.stats.dbLookups++;
    const rows = await this.db.importedKeyPrefix.findMany({ select: { prefix: true } });
    const prefixes = rows.map((row) => row.prefix);
    if (epoch === this.epoch) this.prefixes = prefixes;
    return prefixes;
  }

  /**
   * Keys were imported: an imported key's hash may sit in the negative cache from
   * an earlier probe (too many to name in one message), and new prefixes may exist.
   */
  invalidateImports(): void {
    this.epoch++;
    this.unknown.clear();
    this.prefixes = null;
  }

  invalidateKeys(hashes: readonly string[]): void {
    this.epoch++;
    for (const hash of hashes) {
      this.keys.delete(hash);
      this.platformKeys.delete(hash);
      this.unknown.delete(hash);
    }
    for (const follower of this.followers) follower.invalidateKeys(hashes);
  }

  /** The workspace's switch or one of its services' switches changed. */
  invalidateWorkspace(id: string): void {
    this.epoch++;
    this.workspaces.delete(id);
    for (const follower of this.followers) follower.invalidateWorkspace(id);
    this.services.delete(id);
  }

  /** After a gap in invalidation messages (a lost connection), trust nothing cached. */
  clear(): void {
    this.epoch++;
    this.keys.clear();
    this.platformKeys.clear();
    this.unknown.clear();
    this.prefixes = null;
    this.workspaces.clear();
    for (const follower of this.followers) follower.clear();
    this.services.clear();
    this.deployed.clear();
  }
}
