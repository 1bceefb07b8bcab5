import type { Db } from "../db";

// Usage is recorded off the request path: uses and verification outcomes are
// collected in memory and written every few seconds and at shutdown, one statement
// per kind, never one write per request.

const CHUNK = 1000;

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
      // Chunks keep each statement well under PostgreSQL's 65,535 parameters.
      for (let i = 0; i < used.length; i += CHUNK) await this.writeLastUsed(used.slice(i, i + CHUNK));
      for (let i = 0; i < counts.length; i += CHUNK) await this.writeCounts(counts.slice(i, i + CHUNK));
    } catch (error) {
      // Keep what was collected for the next attempt rather than lose it.
      for (const [id, at] of used) this.touch(id, at);
      for (const [id, n] of counts) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
      throw error;
    }
    return used.length;
  }

  private async writeLastUsed(batch: [string, Date][]) {
    const values = batch.map((_, i) => `($${i * 2 + 1}::uuid, $${i * 2 + 2}::timestamptz)`).join(", ");
    await this.db.$executeRawUnsafe(
      `UPDATE api_keys AS k SET last_used_at = v.at FROM (VALUES ${values}) AS v(id, at)
       WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`,
      ...batch.flatMap(([id, at]) => [id, at.toISOString()]),
    );
  }

  private async writeCounts(batch: [string, number][]) {
    const values = batch
      .map((_, i) => `($${i * 4 + 1}::uuid, $${i * 4 + 2}::timestamptz, $${i * 4 + 3}, $${i * 4 + 4}::int)`)
      .join(", ");
    // Keys deleted since they were counted are skipped rather than failing the batch.
    await this.db.$executeRawUnsafe(
      `INSERT INTO api_key_usage (key_id, hour, outcome, count)
       SELECT v.key_id, v.hour, v.outcome, v.count FROM (VALUES ${values}) AS v(key_id, hour, outcome, count)
       WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = v.key_id)
       ON CONFLICT (key_id, hour, outcome) DO UPDATE SET count = api_key_usage.count + EXCLUDED.count`,
      ...batch.flatMap(([id, n]) => {
        const [keyId, hour, outcome] = id.split("|");
        return [keyId, new Date(Number(hour) * 3_600_000).toISOString(), outcome, n];
      }),
    );
  }
}
