import { apiError } from "../errors";

// The window a `usage(from, to)` field may ask for, for API keys and platform keys
// alike: one read of at most 93 days of hourly rows.

const MAX_RANGE_MS = 93 * 24 * 3600_000;

/** Throws validation_failed (field `to`) unless `to` is after `from` and at most 93 days later. */
export function checkUsageRange(from: Date, to: Date): void {
  if (to <= from || to.getTime() - from.getTime() > MAX_RANGE_MS) {
    throw apiError({
      code: "validation_failed",
      message: "to: must be after from, at most 93 days later",
      field: "to",
    });
  }
}
