import type { Db } from "../db";

// lastUsedAt is written in batches off the request path: uses are collected in
// memory and flushed with one UPDATE every few seconds and at shutdown, never one
// write per request.

export class LastUsedRecorder {
  private pending = new Map<string, Date>();
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

  touch(keyId: string, at: Date): void {
    const seen = this.pending.get(keyId);
    if (!seen || seen < at) this.pending.set(keyId, at);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Writes everything collected so far in one statement; returns how many keys it touched. */
  flush(): Promise<number> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = [...this.pending];
    this.pending = new Map();
    const values = batch.map((_, i) => `($${i * 2 + 1}::uuid, $${i * 2 + 2}::timestamptz)`).join(", ");
    const params = batch.flatMap(([id, at]) => [id, at.toISOString()]);
    try {
      await this.db.$executeRawUnsafe(
        `UPDATE api_keys AS k SET last_used_at = v.at FROM (VALUES ${values}) AS v(id, at)
         WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`,
        ...params,
      );
    } catch (error) {
      // Keep the uses for the next attempt rather than lose them.
      for (const [id, at] of batch) this.touch(id, at);
      throw error;
    }
    return batch.length;
  }
}
