import type { ApiKeyUsageQuery, KeywardError } from "@keyward/sdk";
import { lazy, Suspense, useEffect, useState } from "react";
import { api, asKeywardError } from "../api";
import type { KeyRow } from "../pages/KeysPage";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

// The charting library is loaded only when a chart is opened: the keys page stays small.
const UsageChart = lazy(() => import("./UsageChart"));

type Usage = NonNullable<ApiKeyUsageQuery["apiKey"]>["usage"];
const DAY = 24 * 3600_000;

/** One key's requests per hour over the last 24 hours, by outcome. */
export function UsageModal({ apiKey, onClose }: { apiKey: KeyRow; onClose: () => void }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<KeywardError | null>(null);

  useEffect(() => {
    const to = new Date();
    api
      .apiKeyUsage({ id: apiKey.id, from: new Date(to.getTime() - DAY).toISOString(), to: to.toISOString() })
      .then(({ apiKey: key }) => setUsage(key?.usage ?? []))
      .catch((caught) => setError(asKeywardError(caught)));
  }, [apiKey.id]);

  return (
    <Modal title={`Usage of ${apiKey.name}`} onClose={onClose}>
      <div className="stack">
        <p className="muted">Requests per hour over the last 24 hours, by outcome.</p>
        <ErrorNotice error={error} />
        {!usage && !error && <p className="loading">Loading usage…</p>}
        {usage?.length === 0 && <p className="empty">No requests in the last 24 hours.</p>}
        {usage && usage.length > 0 && (
          <Suspense fallback={<p className="loading">Loading chart…</p>}>
            <UsageChart usage={usage} />
          </Suspense>
        )}
      </div>
    </Modal>
  );
}
