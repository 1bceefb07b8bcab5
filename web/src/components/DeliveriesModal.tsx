import type { WebhookDeliveriesQuery, WebhookEndpointsQuery } from "@keyward/sdk";
import { api, asKeywardError } from "../api";
import { useLoad } from "../useLoad";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

type Endpoint = WebhookEndpointsQuery["webhookEndpoints"][number];
type Delivery = WebhookDeliveriesQuery["webhookDeliveries"][number];

const BADGE = { SUCCEEDED: "ok", PENDING: "warn", FAILED: "bad" } as const;

/** An endpoint's latest deliveries with their attempts, and redeliver (admins only reach this). */
export function DeliveriesModal({ endpoint, onClose }: { endpoint: Endpoint; onClose: () => void }) {
  const {
    data: deliveries,
    error,
    setError,
    reload: load,
  } = useLoad(
    async () => (await api.webhookDeliveries({ endpointId: endpoint.id, first: 20 })).webhookDeliveries,
    [endpoint.id],
  );

  async function redeliver(delivery: Delivery) {
    setError(null);
    try {
      await api.redeliverWebhook({ input: { id: delivery.id } });
      await load();
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }

  return (
    <Modal title="Deliveries" onClose={onClose}>
      <div className="stack">
        <div className="row spread">
          <code className="muted url">{endpoint.url}</code>
          <button type="button" className="secondary" onClick={() => void load()}>
            Refresh
          </button>
        </div>
        <ErrorNotice error={error} />
        {!deliveries && !error && <p className="loading">Loading deliveries…</p>}
        {deliveries?.length === 0 && <p className="empty">Nothing delivered yet. Send a test ping.</p>}
        {deliveries && deliveries.length > 0 && (
          <ul className="cards deliveries">
            {deliveries.map((d) => {
              const last = d.attempts[d.attempts.length - 1];
              return (
                <li key={d.id}>
                  <span>
                    <code>{d.eventType}</code> <span className="muted">{new Date(d.createdAt).toLocaleString()}</span>
                    <br />
                    <span className="muted">
                      {d.attemptCount} attempt{d.attemptCount === 1 ? "" : "s"}
                      {last ? `, last: HTTP ${last.statusCode ?? "no answer"} in ${last.latencyMs} ms` : ""}
                    </span>
                  </span>
                  <span className="row">
                    <span className={`badge ${BADGE[d.status]}`}>{d.status}</span>
                    <button type="button" className="secondary" onClick={() => void redeliver(d)}>
                      Redeliver
                    </button>
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </Modal>
  );
}
