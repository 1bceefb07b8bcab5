import type { KeywardError } from "@keyward/sdk";
import { useState } from "react";
import { api, asKeywardError } from "../api";
import type { KeyRow } from "../pages/KeysPage";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

/** Revoke a key for good, once its name is typed back. */
export function RevokeModal({
  apiKey,
  onClose,
  onRevoked,
}: {
  apiKey: KeyRow;
  onClose: () => void;
  onRevoked: () => void;
}) {
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await api.revokeApiKey({ input: { id: apiKey.id, reason: "Revoked in the dashboard" } });
      onRevoked();
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title={`Revoke ${apiKey.name}`} onClose={onClose}>
      <div className="stack">
        <p>
          Every request using <code>{apiKey.start}…</code> will be refused. This cannot be undone.
        </p>
        <label>
          Type <strong>{apiKey.name}</strong> to confirm
          <input value={typed} onChange={(event) => setTyped(event.target.value)} autoComplete="off" />
        </label>
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="danger" disabled={busy || typed !== apiKey.name} onClick={revoke}>
            Revoke key
          </button>
        </div>
      </div>
    </Modal>
  );
}
