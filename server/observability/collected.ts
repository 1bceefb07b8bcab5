import type { Registry } from "prom-client";

// Metrics kept as plain numbers in this process and turned into Prometheus series
// only when /metrics is read. The request path pays an array increment, not
// prom-client's label hashing and validation per observation (measured with
// bench/verify.ts: see bench/README.md).

type Labels = Record<string, string>;

interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** Registers a metric whose samples are read from plain state at scrape time. */
export function registerCollected(
  registry: Registry,
  metric: { name: string; help: string; type: "counter" | "gauge" | "histogram" },
  samples: () => Sample[] | Promise<Sample[]>,
): void {
  registry.registerMetric({
    name: metric.name,
    help: metric.help,
    type: metric.type,
    aggregator: "sum",
    get: async () => ({ ...metric, aggregator: "sum", values: await samples() }),
  } as unknown as Parameters<Registry["registerMetric"]>[0]);
}

/** Latency buckets in seconds: a warm verification takes well under a millisecond in process. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A histogram series' counts: per bucket (not cumulative; summed when read), sum and count. */
export class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    // Past the last bound: only +Inf (the count) holds it.
    if (i < bounds.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  /** Prometheus samples: cumulative _bucket lines with le, then _sum and _count. */
  samples(name: string, labels: Labels): Sample[] {
    const out: Sample[] = [];
    let running = 0;
    this.bounds.forEach((bound, i) => {
      running += this.counts[i] as number;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(bound) }, value: running });
    });
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: this.count });
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.count });
    return out;
  }
}

/** Histogram series by a fixed tuple of label values, created on first use. */
export class HistogramFamily {
  private readonly series = new Map<string, { labels: Labels; buckets: Buckets }>();

  constructor(
    readonly labelNames: readonly string[],
    readonly bounds: readonly number[] = LATENCY_BUCKETS,
  ) {}

  /** The series for these label values (in labelNames' order); callers on hot paths keep it. */
  get(values: readonly string[]): Buckets {
    const id = values.join("\u0000");
    let entry = this.series.get(id);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? "";
      });
      entry = { labels, buckets: new Buckets(this.bounds) };
      this.series.set(id, entry);
    }
    return entry.buckets;
  }

  samples(name: string): Sample[] {
    return [...this.series.values()].flatMap(({ labels, buckets }) => buckets.samples(name, labels));
  }
}

/** Counters by a fixed tuple of label values. */
export class CounterFamily {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly labelNames: readonly string[]) {}

  inc(values: readonly string[], by = 1): void {
    const id = values.join("\u0000");
    const entry = this.series.get(id);
    if (entry) {
      entry.value += by;
      return;
    }
    const labels: Labels = {};
    this.labelNames.forEach((name, i) => {
      labels[name] = values[i] ?? "";
    });
    this.series.set(id, { labels, value: by });
  }

  samples(): Sample[] {
    return [...this.series.values()].map(({ labels, value }) => ({ labels, value }));
  }
}
