import { useState } from "react";
import { Modal } from "./Modal";

interface Props {
  secret: string;
  url: string;
  rotated: boolean;
  onClose: () => void;
}

/**
 * The one time an endpoint's signing secret is shown. Like a key's, it lives only in
 * this component's props and is gone once the dialog closes.
 */
export function WebhookSecret({ secret, url, rotated, onClose }: Props) {
  const [copied, setCopied] = useState(false);
  return (
    <Modal title="Save your signing secret" onClose={onClose}>
      <div className="stack">
        <p className="warning" role="status">
          This is the only time you will see this secret. You won't see it again: copy it into your receiver now.
        </p>
        {rotated && (
          <p className="muted">
            For the next 7 days every delivery is signed with both the old and the new secret, so your receiver keeps
            working while you deploy the new one. After that only the new secret signs.
          </p>
        )}
        <label>
          Signing secret for {url}
          <input className="secret" readOnly value={secret} onFocus={(event) => event.currentTarget.select()} />
        </label>
        <div className="row end">
          <button
            type="button"
            className="secondary"
            onClick={async () => {
              await navigator.clipboard?.writeText(secret).catch(() => undefined);
              setCopied(true);
            }}
          >
            {copied ? "Copied" : "Copy"}
          </button>
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Modal>
  );
}
