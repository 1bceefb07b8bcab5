import type { Environment } from "@keyward/sdk";
import { useState } from "react";
import { Modal } from "./Modal";

interface Props {
  secret: string;
  name: string;
  environment: Environment;
  onClose: () => void;
}

/**
 * The one time a key's full value is shown. It lives only in this component's props:
 * never in the address, storage or a log, and it is gone once the dialog closes.
 */
export function SecretReveal({ secret, name, environment, onClose }: Props) {
  const [copied, setCopied] = useState(false);

  function download() {
    const variable = `KEYWARD_${environment}_KEY`;
    const blob = new Blob([`# ${name}\n${variable}=${secret}\n`], { type: "text/plain" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = ".env";
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <Modal title="Save your key" onClose={onClose}>
      <div className="stack">
        <p className="warning" role="status">
          This is the only time you will see this key. You won't see it again: copy it or download it now.
        </p>
        <label>
          {name}
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
