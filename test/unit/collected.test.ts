import { describe, expect, it } from "vitest";
import { Buckets, CounterFamily } from "../../server/observability/collected";

// The plain-number histograms and counters behind /metrics must read as Prometheus
// expects: cumulative buckets ending in +Inf equal to the count, and the sum.

describe("Buckets", () => {
  it("reads as cumulative buckets, +Inf equal to the count, and the sum", () => {
    const buckets = new Buckets([0.01, 0.1, 1]);
    for (const value of [0.005, 0.01, 0.05, 0.5, 3]) buckets.observe(value);
    const samples = buckets.samples("t", { route: "/x" });
    const bucket = (le: string) => samples.find((s) => s.metricName === "t_bucket" && s.labels.le === le)?.value;
    // A value equal to a bound falls in that bound's bucket (le: less than or equal).
    expect([bucket("0.01"), bucket("0.1"), bucket("1"), bucket("+Inf")]).toEqual([2, 3, 4, 5]);
    expect(samples.find((s) => s.metricName === "t_count")?.value).toBe(5);
    expect(samples.find((s) => s.metricName === "t_sum")?.value).toBeCloseTo(3.565);
    expect(samples.every((s) => s.labels.route === "/x")).toBe(true);
  });
});

describe("CounterFamily", () => {
  it("keeps one series per tuple of label values", () => {
    const counters = new CounterFamily(["path", "code"]);
    counters.inc(["graphql_fast", "VALID"]);
    counters.inc(["graphql_fast", "VALID"]);
    counters.inc(["authorize", "VALID"], 3);
    expect(counters.samples()).toEqual([
      { labels: { path: "graphql_fast", code: "VALID" }, value: 2 },
      { labels: { path: "authorize", code: "VALID" }, value: 3 },
    ]);
  });
});
