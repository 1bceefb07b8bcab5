import { type Environment, type KeywardError, webhookEventTypes } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

interface Props {
  workspaceId: string;
  environment: Environment;
  onClose: () => void;
  onCreated: (secret: string, url: string) => void;
}

/** Adding an endpoint: where to POST, which events, and a note for people. */
export function CreateWebhookModal({ workspaceId, environment, onClose, onCreated }: Props) {
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const url = String(form.get("url") ?? "");
    setError(null);
    setBusy(true);
    try {
      const { createWebhookEndpoint } = await api.createWebhookEndpoint({
        input: {
          workspaceId,
          environment,
          url,
          events: form.getAll("events").map(String),
          description: String(form.get("description") ?? ""),
        },
      });
      onCreated(createWebhookEndpoint.secret, createWebhookEndpoint.endpoint.url);
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title={`Add a ${environment.toLowerCase()} endpoint`} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <label>
          URL
          <input name="url" type="url" required placeholder="https://example.com/webhooks/keyward" />
        </label>
        <fieldset>
          <legend>Events</legend>
          <div className="checks">
            {webhookEventTypes.map((name) => (
              <label key={name} className="check">
                <input type="checkbox" name="events" value={name} defaultChecked={name.startsWith("key.")} />
                {name}
              </label>
            ))}
          </div>
        </fieldset>
        <label>
          <span>
            Description <span className="muted">(optional)</span>
          </span>
          <input name="description" maxLength={200} />
        </label>
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            Add endpoint
          </button>
        </div>
      </form>
    </Modal>
  );
}
