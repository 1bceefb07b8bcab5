import type { ApiKeyUsageQuery } from "@keyward/sdk";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

type Bucket = NonNullable<ApiKeyUsageQuery["apiKey"]>["usage"][number];

const COLORS: Record<string, string> = { VALID: "#0e7a3e" };
const REFUSED = ["#c0123c", "#a15c00", "#4f46e5", "#697386", "#7c3aed", "#0891b2"];

/** Requests per hour, stacked by outcome (VALID and each refusal code). */
export default function UsageChart({ usage }: { usage: Bucket[] }) {
  const outcomes = [...new Set(usage.map((u) => u.outcome))].sort((a, b) =>
    a === "VALID" ? -1 : b === "VALID" ? 1 : a.localeCompare(b),
  );
  const hours = new Map<string, Record<string, number | string>>();
  for (const bucket of usage) {
    const hour = new Date(String(bucket.hour));
    const label = hour.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const row = hours.get(label) ?? { hour: label };
    row[bucket.outcome] = Number(row[bucket.outcome] ?? 0) + bucket.count;
    hours.set(label, row);
  }
  const data = [...hours.values()];
  return (
    <figure className="chart">
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="hour" fontSize={12} />
          <YAxis allowDecimals={false} fontSize={12} />
          <Tooltip />
          <Legend />
          {outcomes.map((outcome, index) => (
            <Bar
              key={outcome}
              dataKey={outcome}
              stackId="outcome"
              fill={COLORS[outcome] ?? REFUSED[index % REFUSED.length]}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="visually-hidden">
        {outcomes
          .map((o) => `${o}: ${usage.filter((u) => u.outcome === o).reduce((n, u) => n + u.count, 0)}`)
          .join(", ")}
      </figcaption>
    </figure>
  );
}
