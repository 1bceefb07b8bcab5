import { lazy, Suspense } from "react";
import { api } from "../api";
import type { KeyRow } from "../pages/KeysPage";
import { useLoad } from "../useLoad";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

// The charting library is loaded only when a chart is opened: the keys page stays small.
const UsageChart = lazy(() => import("./UsageChart"));

const DAY = 24 * 3600_000;

/** One key's requests per hour over the last 24 hours, by outcome. */
export function UsageModal({ apiKey, onClose }: { apiKey: KeyRow; onClose: () => void }) {
  const { data: usage, error } = useLoad(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - DAY);
    const { apiKey: key } = await api.apiKeyUsage({ id: apiKey.id, from: from.toISOString(), to: to.toISOString() });
    return key?.usage ?? [];
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
