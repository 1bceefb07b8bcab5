import { webcrypto } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { Db } from "../db";
import type { ApiKey, Environment } from "../generated/prisma/client";
import type { CacheFollower } from "../keys/cache";
import type { SecretBox } from "../keys/secret-box";
import { MAX_SIGNING_KEYS, signingKeysWhere } from "../keys/signing";
import { loadTree } from "./audiences";
import type { AudienceTree } from "./tree";

// What verifying an audience token reads, held in memory so that a warm
// verification sends no SQL: each workspace's audience tree, and each workspace
// and environment's signing keys, opened once from their sealed copies.
//
// It follows the key cache (keys/cache.ts): a change to any listed signing key
// (revoke, update, roll) drops that key's set, a workspace announcement (a new
// signing key, an audience change) drops the workspace's sets and tree, and a
// lost invalidation channel drops everything. The epoch keeps a load that read
// the database before such a change from storing what it read.
//
// A token whose signature checked out is remembered with its claims, tied to the
// very set of signers that checked it: a browser sends the same token with each
// request for its lifetime, and an HMAC check is the dearest step of a warm
// verification. Once that set is dropped, its remembered tokens count for nothing.
//
// The opened secrets live only here, as non-extractable CryptoKeys; nothing here
// logs them.

export interface Signer {
  keyId: string;
  hash: string;
  /** HMAC-SHA-256 over the key's full value, as the customer signs with it. */
  key: webcrypto.CryptoKey;
  /** For the key's status at verification time (expiry, a roll's grace). */
  state: Pick<ApiKey, "revokedAt" | "expiresAt" | "graceUntil">;
}

/** The signing keys of one workspace and environment, as loaded together. */
export interface SignerSet {
  signers: readonly Signer[];
}

/** A token a signer of `set` signed, and the claims verification still checks at each use. */
export interface VerifiedToken {
  set: SignerSet;
  signer: Signer;
  audience: unknown;
  exp: number;
  nbf: number | undefined;
}

const TTL = 10 * 60_000;

export class AudienceCache implements CacheFollower {
  private readonly trees = new LRUCache<string, AudienceTree>({ max: 10_000, ttl: TTL });
  private readonly signerSets = new LRUCache<string, SignerSet>({
    max: 20_000,
    ttl: TTL,
    dispose: ({ signers }, set) => {
      for (const signer of signers) if (this.setOfHash.get(signer.hash) === set) this.setOfHash.delete(signer.hash);
    },
  });
  private readonly tokens = new LRUCache<string, VerifiedToken>({ max: 100_000, ttl: TTL });
  /** A signing key's hash → the set that lists it, so a key invalidation finds its set. */
  private readonly setOfHash = new Map<string, string>();
  private epoch = 0;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly logger: Logger,
  ) {}

  cachedTree(workspaceId: string): AudienceTree | undefined {
    return this.trees.get(workspaceId);
  }

  async tree(workspaceId: string): Promise<AudienceTree> {
    const cached = this.trees.get(workspaceId);
    if (cached) return cached;
    const epoch = this.epoch;
    const tree = await loadTree(this.db, workspaceId);
    if (epoch === this.epoch) this.trees.set(workspaceId, tree);
    return tree;
  }

  cachedSigners(workspaceId: string, environment: Environment): SignerSet | undefined {
    return this.signerSets.get(`${workspaceId}:${environment}`);
  }

  /** A token checked before by this same set of signers (not by an older or another workspace's set). */
  verified(token: string, set: SignerSet): VerifiedToken | undefined {
    const known = this.tokens.get(token);
    return known?.set === set ? known : undefined;
  }

  remember(token: string, verified: VerifiedToken): void {
    this.tokens.set(token, verified);
  }

  async signers(workspaceId: string, environment: Environment, now: Date): Promise<SignerSet> {
    const set = `${workspaceId}:${environment}`;
    const cached = this.signerSets.get(set);
    if (cached) return cached;
    const epoch = this.epoch;
    const rows = await this.db.apiKey.findMany({
      where: signingKeysWhere(workspaceId, environment, now),
      select: { id: true, hash: true, sealedSecret: true, revokedAt: true, expiresAt: true, graceUntil: true },
      orderBy: { createdAt: "desc" },
      take: MAX_SIGNING_KEYS * 2,
    });
    const signers: Signer[] = [];
    for (const { id, hash, sealedSecret, ...state } of rows) {
      const secret = sealedSecret === null ? null : this.box.open(sealedSecret);
      if (secret === null) {
        // Sealed under another master key (instances that do not share KEYWARD_MASTER_KEY).
        this.logger.warn({ keyId: id }, "a signing key's sealed copy does not open with this master key");
        continue;
      }
      const key = await webcrypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["verify"],
      );
      signers.push({ keyId: id, hash, key, state });
    }
    const loaded: SignerSet = { signers };
    if (epoch === this.epoch) {
      this.signerSets.set(set, loaded);
      for (const signer of signers) this.setOfHash.set(signer.hash, set);
    }
    return loaded;
  }

  invalidateKeys(hashes: readonly string[]): void {
    this.epoch++;
    for (const hash of hashes) {
      const set = this.setOfHash.get(hash);
      if (set) this.signerSets.delete(set);
    }
  }

  invalidateWorkspace(id: string): void {
    this.epoch++;
    this.trees.delete(id);
    for (const environment of ["LIVE", "TEST"] as const) this.signerSets.delete(`${id}:${environment}`);
  }

  clear(): void {
    this.epoch++;
    this.trees.clear();
    this.signerSets.clear();
    this.setOfHash.clear();
    this.tokens.clear();
  }
}
