import type { KeywardError } from "@keyward/sdk";
import { useState } from "react";
import { api, asKeywardError } from "../api";
import type { KeyRow } from "../pages/KeysPage";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

const GRACE = [
  { seconds: 0, label: "Now (regenerate: the old key stops at once)" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86400, label: "24 hours" },
  { seconds: 259200, label: "3 days" },
  { seconds: 604800, label: "7 days" },
];

/** Roll a key: a new value now, the old one working for the chosen grace period. */
export function RollModal({
  apiKey,
  onClose,
  onRolled,
}: {
  apiKey: KeyRow;
  onClose: () => void;
  onRolled: (secret: string) => void;
}) {
  const [grace, setGrace] = useState(86400);
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function roll() {
    setBusy(true);
    setError(null);
    try {
      const { rollApiKey } = await api.rollApiKey({ input: { id: apiKey.id, gracePeriodSeconds: grace } });
      onRolled(rollApiKey.secret);
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title={`Roll ${apiKey.name}`} onClose={onClose}>
      <div className="stack">
        <label>
          The old key keeps working for
          <select value={grace} onChange={(event) => setGrace(Number(event.target.value))}>
            {GRACE.map((g) => (
              <option key={g.seconds} value={g.seconds}>
                {g.label}
              </option>
            ))}
          </select>
        </label>
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" onClick={roll} disabled={busy}>
            Roll key
          </button>
        </div>
      </div>
    </Modal>
  );
}
