import type { KeywardError, WebhookEndpointsQuery } from "@keyward/sdk";
import { useState } from "react";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

type Endpoint = WebhookEndpointsQuery["webhookEndpoints"][number];

/** Deleting an endpoint drops what is still queued for it: said before, confirmed by a button. */
export function DeleteWebhookModal({
  endpoint,
  onClose,
  onDeleted,
}: {
  endpoint: Endpoint;
  onClose: () => void;
  onDeleted: () => Promise<void>;
}) {
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function remove() {
    setError(null);
    setBusy(true);
    try {
      await api.deleteWebhookEndpoint({ input: { id: endpoint.id } });
      await onDeleted();
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title="Delete this endpoint?" onClose={onClose}>
      <div className="stack">
        <code className="url">{endpoint.url}</code>
        <p>
          It gets no more events, and deliveries still waiting for it are dropped. To pause it instead, switch it off.
          This cannot be undone.
        </p>
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => void remove()}>
            Delete endpoint
          </button>
        </div>
      </div>
    </Modal>
  );
}
