import type { DeploymentsQuery, KeywardError } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

export type Deployment = DeploymentsQuery["deployments"]["edges"][number]["node"];

interface Props {
  workspaceId: string;
  /** The version whose snapshot is republished. */
  target: Deployment;
  /** The newest version now: the rollback becomes the one after it. */
  latest: number;
  onClose: () => void;
  onRolledBack: (deployment: Deployment) => Promise<void>;
}

/**
 * Rolling back publishes an older snapshot as a new version (history is never
 * rewritten), so the dialog names both: the version republished and the one it becomes.
 */
export function RollbackModal({ workspaceId, target, latest, onClose, onRolledBack }: Props) {
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const note = String(new FormData(event.currentTarget).get("note") ?? "");
    setError(null);
    setBusy(true);
    try {
      const { rollbackKeys } = await api.rollbackKeys({
        input: { workspaceId, version: target.version, ...(note ? { note } : {}) },
      });
      await onRolledBack(rollbackKeys);
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title={`Roll back to v${target.version}?`} onClose={onClose}>
      <form className="stack" onSubmit={submit} aria-label={`Roll back to v${target.version}`}>
        <p>
          v{target.version} holds {target.keyCount} {target.keyCount === 1 ? "key" : "keys"}, with the key switch{" "}
          {target.keysEnabled ? "on" : "off"}. It is republished as <strong>v{latest + 1}</strong> and verification
          answers from it at once: keys it does not hold are refused until a later deploy publishes them, and a key
          revoked with <code>immediate</code> stays refused.
        </p>
        <label>
          <span>
            Note <span className="muted">(optional)</span>
          </span>
          <input name="note" maxLength={500} />
        </label>
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy}>
            Republish v{target.version}
          </button>
        </div>
      </form>
    </Modal>
  );
}
