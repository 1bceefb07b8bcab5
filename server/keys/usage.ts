import type { Db } from "../db";
import { isDatabaseUnavailable } from "../db-unavailable";
import type { Prisma } from "../generated/prisma/client";

// Usage is recorded off the request path: uses and verification outcomes are
// collected in memory and written every few seconds and at shutdown, one statement
// per kind, never one write per request. Workspace keys and platform keys
// (server/platform/) each have a ledger: lastUsedAt, and counts per hour and label.
//
// A flush is one transaction, so counts are written whole or not at all. Counts are
// added, not set, so a batch must never be written twice: when the connection
// drops while committing, the batch is held "in doubt" under its transaction id and
// the next flush asks PostgreSQL (txid_status) whether it committed, restoring the
// counts only if it did not. A kill loses what was collected since the last flush.

type Tx = Prisma.TransactionClient;

type Taken = { used: [string, Date][]; counts: [string, number][] };

/** Counts whose write may or may not have committed: the connection dropped during it. */
interface InDoubt {
  xid: string;
  keys: Taken["counts"];
  platform: Taken["counts"];
}

/** One kind of key's uses since the last write. */
class Ledger {
  private lastUsed = new Map<string, Date>();
  /** `${keyId}|${hours since the epoch}|${label}` → count */
  private counts = new Map<string, number>();

  touch(keyId: string, at: Date): void {
    const seen = this.lastUsed.get(keyId);
    if (!seen || seen < at) this.lastUsed.set(keyId, at);
  }

  count(keyId: string, label: string, at: Date, by: number): void {
    // The hour as a number here (hot path); turned into a timestamp when written.
    const id = `${keyId}|${Math.floor(at.getTime() / 3_600_000)}|${label}`;
    this.counts.set(id, (this.counts.get(id) ?? 0) + by);
  }

  /** Entries waiting for the next write. */
  get pending(): number {
    return this.lastUsed.size + this.counts.size;
  }

  take(): Taken {
    const taken: Taken = { used: [...this.lastUsed], counts: [...this.counts] };
    this.lastUsed = new Map();
    this.counts = new Map();
    return taken;
  }

  /** Keeps what could not be written for the next attempt rather than lose it. */
  restoreUsed(used: Taken["used"]): void {
    for (const [id, at] of used) this.touch(id, at);
  }

  restoreCounts(counts: Taken["counts"]): void {
    for (const [id, n] of counts) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
  }
}

/** The count keys as columns: key ids, hours (ISO) and the label's parts. */
function columns(batch: [string, number][], labelParts: number) {
  const out = { keyIds: [] as string[], hours: [] as string[], labels: [] as string[][], counts: [] as number[] };
  for (let i = 0; i < labelParts; i++) out.labels.push([]);
  for (const [id, n] of batch) {
    const [keyId = "", hour, ...label] = id.split("|");
    out.keyIds.push(keyId);
    out.hours.push(new Date(Number(hour) * 3_600_000).toISOString());
    for (let i = 0; i < labelParts; i++) out.labels[i]?.push(label[i] ?? "");
    out.counts.push(n);
  }
  return out;
}

/** One write of collected usage, as the metrics see it. */
export interface FlushReport {
  /** Rows handed to the database (lastUsedAt values and counts, both kinds of key). */
  rows: number;
  seconds: number;
  ok: boolean;
}

export class UsageRecorder {
  private readonly keys = new Ledger();
  private readonly platform = new Ledger();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> = Promise.resolve(0);
  private inDoubt: InDoubt | null = null;
  /** When a write last succeeded (ms since the epoch); the start until then, so a stuck flush shows as lag. */
  lastFlushedAt = Date.now();
  /** Told of every write (the metrics' batch sizes and durations). */
  onFlush: ((report: FlushReport) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => {}), this.intervalMs);
    this.timer.unref();
  }

  /** A successful use: moves lastUsedAt. */
  touch(keyId: string, at: Date): void {
    this.keys.touch(keyId, at);
  }

  /** One verification of a key, by outcome (VALID or an error code), in its hour. */
  count(keyId: string, outcome: string, at: Date, by = 1): void {
    this.keys.count(keyId, outcome, at, by);
  }

  /** A use of a platform key: moves its lastUsedAt and counts the operation's outcome. */
  usePlatformKey(keyId: string, operation: "verify" | "workspace", outcome: string, at: Date): void {
    this.platform.touch(keyId, at);
    this.platform.count(keyId, `${operation}|${outcome}`, at, 1);
  }

  /** Entries collected and not yet written. */
  get pending(): number {
    return this.keys.pending + this.platform.pending;
  }

  /** Writes everything collected so far; returns how many keys' lastUsedAt it wrote. */
  flush(): Promise<number> {
    this.flushing = this.flushing.then(
      () => this.write(),
      () => this.write(),
    );
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<number> {
    await this.settle();
    const started = performance.now();
    const keys = this.keys.take();
    const platform = this.platform.take();
    const rows = keys.used.length + keys.counts.length + platform.used.length + platform.counts.length;
    const report = (ok: boolean) => {
      if (ok) this.lastFlushedAt = Date.now();
      if (rows || !ok) this.onFlush?.({ rows, seconds: (performance.now() - started) / 1000, ok });
    };
    const restore = () => {
      this.keys.restoreUsed(keys.used);
      this.keys.restoreCounts(keys.counts);
      this.platform.restoreUsed(platform.used);
      this.platform.restoreCounts(platform.counts);
    };
    if (!rows) {
      report(true);
      return 0;
    }
    let xid: string | undefined;
    try {
      await this.db.$transaction(
        async (tx) => {
          xid = (await tx.$queryRaw<{ xid: string }[]>`SELECT txid_current()::text AS xid`)[0]?.xid;
          if (keys.used.length) await this.writeLastUsed(tx, "api_keys", keys.used);
          if (keys.counts.length) await this.writeKeyCounts(tx, keys.counts);
          if (platform.used.length) await this.writeLastUsed(tx, "platform_keys", platform.used);
          if (platform.counts.length) await this.writePlatformCounts(tx, platform.counts);
        },
        // Prisma's 5 s default would abort a large batch on a busy database; nothing waits on it.
        { timeout: 120_000 },
      );
    } catch (error) {
      report(false);
      if (xid === undefined || !isDatabaseUnavailable(error)) restore();
      else {
        // lastUsedAt only ever moves forward, so writing it again is harmless.
        this.keys.restoreUsed(keys.used);
        this.platform.restoreUsed(platform.used);
        this.inDoubt = { xid, keys: keys.counts, platform: platform.counts };
      }
      throw error;
    }
    report(true);
    return keys.used.length + platform.used.length;
  }

  /** Learns whether an in-doubt batch committed: dropped if it did, counted again if not. */
  private async settle(): Promise<void> {
    const doubt = this.inDoubt;
    if (!doubt) return;
    const [row] = await this.db.$queryRaw<{ status: string | null }[]>`
      SELECT txid_status(${doubt.xid}::bigint) AS status`;
    // Still committing on a connection that is going away: ask again at the next flush.
    if (row?.status === "in progress") return;
    this.inDoubt = null;
    // null: too old to know (after ~2 billion transactions); not counting is the safe side.
    if (row?.status !== "aborted") return;
    this.keys.restoreCounts(doubt.keys);
    this.platform.restoreCounts(doubt.platform);
  }

  // One array per column (unnest) rather than a VALUES list: a handful of
  // parameters whatever the batch size, so PostgreSQL parses and plans a short
  // statement. On the embedded database that work runs on the server's own
  // thread, so it is time taken from verifications.
  private async writeLastUsed(tx: Tx, table: "api_keys" | "platform_keys", batch: [string, Date][]) {
    await tx.$executeRawUnsafe(
      `UPDATE ${table} AS k SET last_used_at = v.at
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
       WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`,
      batch.map(([id]) => id),
      batch.map(([, at]) => at.toISOString()),
    );
  }

  private async writeKeyCounts(tx: Tx, batch: [string, number][]) {
    const c = columns(batch, 1);
    // Keys deleted since they were counted are skipped rather than failing the batch.
    await tx.$executeRawUnsafe(
      `INSERT INTO api_key_usage (key_id, hour, outcome, count)
       SELECT v.key_id, v.hour, v.outcome, v.count
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::int[]) AS v(key_id, hour, outcome, count)
       WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = v.key_id)
       ON CONFLICT (key_id, hour, outcome) DO UPDATE SET count = api_key_usage.count + EXCLUDED.count`,
      c.keyIds,
      c.hours,
      c.labels[0],
      c.counts,
    );
  }

  private async writePlatformCounts(tx: Tx, batch: [string, number][]) {
    const c = columns(batch, 2);
    await tx.$executeRawUnsafe(
      `INSERT INTO platform_key_usage (key_id, hour, operation, outcome, count)
       SELECT v.key_id, v.hour, v.operation, v.outcome, v.count
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::int[])
         AS v(key_id, hour, operation, outcome, count)
       WHERE EXISTS (SELECT 1 FROM platform_keys k WHERE k.id = v.key_id)
       ON CONFLICT (key_id, hour, operation, outcome)
         DO UPDATE SET count = platform_key_usage.count + EXCLUDED.count`,
      c.keyIds,
      c.hours,
      c.labels[0],
      c.labels[1],
      c.counts,
    );
  }
}
