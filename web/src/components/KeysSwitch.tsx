import { useState } from "react";
import { api, asKeywardError } from "../api";
import { useLoad } from "../useLoad";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

/** The workspace's master switch: off, no key of the workspace works. Confirmed either way. */
export function KeysSwitch({ workspaceId }: { workspaceId: string }) {
  // null: not loaded yet, or no workspace came back (nothing to switch).
  const {
    data: enabled,
    setData,
    error,
    setError,
  } = useLoad(async () => (await api.workspace({ id: workspaceId })).workspace?.keysEnabled ?? null, [workspaceId]);
  const [confirming, setConfirming] = useState(false);

  async function flip() {
    setError(null);
    try {
      const { setKeysEnabled } = await api.setKeysEnabled({ input: { workspaceId, enabled: !enabled } });
      setData(setKeysEnabled.keysEnabled);
      setConfirming(false);
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }

  if (enabled === null) return <ErrorNotice error={error} />;
  return (
    <div className={`switchbar ${enabled ? "" : "off"}`}>
      <label className="toggle">
        <input
          type="checkbox"
          role="switch"
          aria-checked={enabled}
          checked={enabled}
          onChange={() => setConfirming(true)}
        />
        <span>Enable keys</span>
      </label>
      <span className="muted">
        {enabled ? "Keys of this workspace work." : "Keys are switched off: every key of this workspace is refused."}
      </span>
      {confirming && (
        <Modal title={enabled ? "Switch all keys off?" : "Switch keys back on?"} onClose={() => setConfirming(false)}>
          <div className="stack">
            <p>
              {enabled
                ? "Every key of this workspace, test and live, stops working at once until you switch them back on."
                : "Every key that is not revoked or expired works again at once."}
            </p>
            <ErrorNotice error={error} />
            <div className="row end">
              <button type="button" className="secondary" onClick={() => setConfirming(false)}>
                Cancel
              </button>
              <button type="button" className={enabled ? "danger" : ""} onClick={flip}>
                {enabled ? "Switch keys off" : "Switch keys on"}
              </button>
            </div>
          </div>
        </Modal>
      )}
    </div>
  );
}
