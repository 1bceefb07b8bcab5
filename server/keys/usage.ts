import type { Db } from "../db";

// Usage is recorded off the request path: uses and verification outcomes are
// collected in memory and written every few seconds and at shutdown, one statement
// per kind, never one write per request.

export class UsageRecorder {
  private lastUsed = new Map<string, Date>();
  /** `${keyId}|${hours since the epoch}|${outcome}` → count */
  private counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> = Promise.resolve(0);

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
    const seen = this.lastUsed.get(keyId);
    if (!seen || seen < at) this.lastUsed.set(keyId, at);
  }

  /** One verification of a key, by outcome (VALID or an error code), in its hour. */
  count(keyId: string, outcome: string, at: Date, by = 1): void {
    // The hour as a number here (hot path); turned into a timestamp when written.
    const id = `${keyId}|${Math.floor(at.getTime() / 3_600_000)}|${outcome}`;
    this.counts.set(id, (this.counts.get(id) ?? 0) + by);
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
    const used = [...this.lastUsed];
    const counts = [...this.counts];
    this.lastUsed = new Map();
    this.counts = new Map();
    try {
      if (used.length) await this.writeLastUsed(used);
      if (counts.length) await this.writeCounts(counts);
    } catch (error) {
      // Keep what was collected for the next attempt rather than lose it.
      for (const [id, at] of used) this.touch(id, at);
      for (const [id, n] of counts) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
      throw error;
    }
    return used.length;
  }

  // One array per column (unnest) rather than a VALUES list: a handful of
  // parameters whatever the batch size, so PostgreSQL parses and plans a short
  // statement. On the embedded database that work runs on the server's own
  // thread, so it is time taken from verifications.
  private async writeLastUsed(batch: [string, Date][]) {
    await this.db.$executeRawUnsafe(
      `UPDATE api_keys AS k SET last_used_at = v.at
       FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
       WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`,
      batch.map(([id]) => id),
      batch.map(([, at]) => at.toISOString()),
    );
  }

  private async writeCounts(batch: [string, number][]) {
    const columns = { keyIds: [] as string[], hours: [] as string[], outcomes: [] as string[], counts: [] as number[] };
    for (const [id, n] of batch) {
      const [keyId = "", hour, outcome = ""] = id.split("|");
      columns.keyIds.push(keyId);
      columns.hours.push(new Date(Number(hour) * 3_600_000).toISOString());
      columns.outcomes.push(outcome);
      columns.counts.push(n);
    }
    // Keys deleted since they were counted are skipped rather than failing the batch.
    await this.db.$executeRawUnsafe(
      `INSERT INTO api_key_usage (key_id, hour, outcome, count)
       SELECT v.key_id, v.hour, v.outcome, v.count
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::int[]) AS v(key_id, hour, outcome, count)
       WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = v.key_id)
       ON CONFLICT (key_id, hour, outcome) DO UPDATE SET count = api_key_usage.count + EXCLUDED.count`,
      columns.keyIds,
      columns.hours,
      columns.outcomes,
      columns.counts,
    );
  }
}
