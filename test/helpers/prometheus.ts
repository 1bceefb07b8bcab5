// Reads Prometheus text exposition into "name{a="x",b="y"}" → value, labels sorted,
// so a test can ask for one series and see it move.

export type Samples = Map<string, number>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function seriesId(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

export function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[3] ?? "").matchAll(LABEL)) labels[key as string] = value as string;
    samples.set(seriesId(match[1] as string, labels), Number(match[4]));
  }
  return samples;
}

/** The value of one series, 0 when it is not (yet) exposed. */
export function sampleValue(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  return samples.get(seriesId(name, labels)) ?? 0;
}
