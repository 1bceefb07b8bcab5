import { Redis } from "ioredis";
import type { Logger } from "pino";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

// Fixed-window limits per key (and per IP for sign-in/sign-up), with
// rate-limiter-flexible: in memory for one instance, in Redis when REDIS_URL is set
// so several instances share one count. If Redis is unreachable each instance
// falls back to its own in-memory count (the insurance limiter): limits stay
// enforced per instance, nothing crashes, and the shared count resumes when Redis
// answers again. A limit is "fail-soft", never fail-open.

export interface Limit {
  limit: number;
  windowSeconds: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetAt: Date;
  retryAfterSeconds: number;
}

type Limiter = RateLimiterMemory | RateLimiterRedis;

// Module-level rather than a closure in consume(): it runs on every verification.
function decide(limit: Limit, res: RateLimiterRes, allowed: boolean): RateDecision {
  return {
    allowed,
    limit: limit.limit,
    remaining: Math.max(0, res.remainingPoints),
    resetAt: new Date(Date.now() + res.msBeforeNext),
    retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  };
}

export class RateLimits {
  private readonly limiters = new Map<string, Limiter>();
  /** Refusals so far by limit kind (its prefix), read by the metrics when scraped. */
  readonly rejections = new Map<string, number>();

  constructor(private readonly redis: Redis | null) {}

  private limiter(prefix: string, { limit, windowSeconds }: Limit): Limiter {
    const id = `${prefix}:${limit}:${windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const options = { keyPrefix: `keyward:rl:${id}`, points: limit, duration: windowSeconds };
      limiter = this.redis
        ? new RateLimiterRedis({
            ...options,
            storeClient: this.redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(options),
          })
        : new RateLimiterMemory(options);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  /**
   * Spends `points` of the subject's window, or refuses and spends nothing: a refused
   * request (which does not run) must not also use up what is left for smaller ones.
   */
  async consume(prefix: string, subject: string, limit: Limit, points = 1): Promise<RateDecision> {
    const limiter = this.limiter(prefix, limit);
    try {
      return decide(limit, await limiter.consume(subject, points), true);
    } catch (outcome) {
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      await limiter.reward(subject, points);
      this.rejections.set(prefix, (this.rejections.get(prefix) ?? 0) + 1);
      return decide(limit, outcome, false);
    }
  }

  /** Gives points back, e.g. a sign-in attempt that succeeded. */
  async giveBack(prefix: string, subject: string, limit: Limit, points = 1): Promise<void> {
    await this.limiter(prefix, limit).reward(subject, points);
  }
}

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    // Fail fast while Redis is down so the insurance limiter answers at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let healthy = true;
  redis.on("error", (error) => {
    if (healthy) logger.warn({ err: error }, "redis unavailable: rate limits fall back to this instance's memory");
    healthy = false;
  });
  redis.on("ready", () => {
    if (!healthy) logger.info("redis reachable again: shared rate limits resumed");
    healthy = true;
  });
  return redis;
}
