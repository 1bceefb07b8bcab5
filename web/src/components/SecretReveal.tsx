import type { Environment } from "@keyward/sdk";
import { type ReactNode, useState } from "react";
import { Modal } from "./Modal";

interface Props {
  secret: string;
  /** What it belongs to: the key's name, or the webhook endpoint's URL. */
  name: string;
  environment: Environment;
  /** A key's value (the default) or a webhook endpoint's signing secret. */
  kind?: "key" | "webhook";
  /** Anything else to know before closing (a rotation's overlap). */
  note?: ReactNode;
  onClose: () => void;
}

/**
 * The one time a key's full value, or an endpoint's signing secret, is shown. It lives
 * only in this component's props: never in the address, storage or a log, and it is
 * gone once the dialog closes.
 */
export function SecretReveal({ secret, name, environment, kind = "key", note, onClose }: Props) {
  const [copied, setCopied] = useState(false);
  const noun = kind === "key" ? "key" : "secret";

  function download() {
    const variable = kind === "key" ? `KEYWARD_${environment}_KEY` : `KEYWARD_${environment}_WEBHOOK_SECRET`;
    const blob = new Blob([`# ${name}\n${variable}=${secret}\n`], { type: "text/plain" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = ".env";
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <Modal title={kind === "key" ? "Save your key" : "Save your signing secret"} onClose={onClose}>
      <div className="stack">
        <p className="warning" role="status">
          This is the only time you will see this {noun}. You won't see it again: copy it or download it now.
        </p>
        {note}
        <label>
          {kind === "key" ? name : `Signing secret for ${name}`}
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
          <button type="button" className="secondary" onClick={download}>
            Download .env
          </button>
          <button type="button" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Modal>
  );
}
