import type { ApiKeyType, Environment, KeywardError, Role, ServicesQuery } from "@keyward/sdk";
import { type FormEvent, useEffect, useState } from "react";
import { api, asKeywardError } from "../api";
import { grantableScopes } from "../roles";
import { ErrorNotice } from "./ErrorNotice";
import { Modal } from "./Modal";

interface Props {
  workspaceId: string;
  role: Role;
  environment: Environment;
  onClose: () => void;
  /** The new key's full value, handed straight to the one-time reveal. */
  onCreated: (secret: string, name: string, environment: Environment) => void;
}

const list = (text: FormDataEntryValue | null) =>
  String(text ?? "")
    .split(/[\s,]+/)
    .filter(Boolean);

/** Create a key: type, environment, service, the scopes this role may grant, allowlists, expiry, rate limit. */
export function CreateKeyModal({ workspaceId, role, environment, onClose, onCreated }: Props) {
  const [type, setType] = useState<ApiKeyType>("SECRET");
  const [services, setServices] = useState<ServicesQuery["services"]>([]);
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);
  const scopes = grantableScopes(role, type);

  useEffect(() => {
    api
      .services({ workspaceId })
      .then(({ services }) => setServices(services))
      .catch(() => setServices([]));
  }, [workspaceId]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "");
    const env = String(form.get("environment")) as Environment;
    const expires = String(form.get("expiresAt") ?? "");
    const limit = String(form.get("rateLimit") ?? "");
    const serviceId = String(form.get("serviceId") ?? "");
    setBusy(true);
    setError(null);
    try {
      const scopes = form.getAll("scopes").map(String);
      // Fields left empty are left out: the server reads an absent field as its default.
      const { createApiKey } = await api.createApiKey({
        input: {
          workspaceId,
          name,
          type,
          environment: env,
          ...(scopes.length ? { scopes } : {}),
          ...(serviceId ? { serviceId } : {}),
          ...(type === "PUBLISHABLE" ? { allowedOrigins: list(form.get("origins")) } : {}),
          ...(type === "SECRET" && list(form.get("ips")).length ? { allowedIps: list(form.get("ips")) } : {}),
          ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}),
          ...(limit ? { rateLimit: { limit: Number(limit), windowSeconds: 3600 } } : {}),
        },
      });
      onCreated(createApiKey.secret, createApiKey.apiKey.name, env);
    } catch (caught) {
      setError(asKeywardError(caught));
      setBusy(false);
    }
  }

  return (
    <Modal title="Create a new API key" onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <label>
          Name
          <input name="name" required maxLength={100} placeholder="Production backend" />
        </label>
        <div className="grid2">
          <label>
            Type
            <select value={type} onChange={(event) => setType(event.target.value as ApiKeyType)}>
              <option value="SECRET">Secret (sk_, server-side)</option>
              <option value="PUBLISHABLE">Publishable (pk_, browser)</option>
            </select>
          </label>
          <label>
            Environment
            <select name="environment" defaultValue={environment}>
              <option value="TEST">Test</option>
              <option value="LIVE">Live</option>
            </select>
          </label>
        </div>
        <label>
          Service
          <select name="serviceId" defaultValue="">
            <option value="">None</option>
            {services.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Scopes (none ticked: every scope you may grant)</legend>
          <div className="checks">
            {scopes.map((scope) => (
              <label key={scope} className="check">
                <input type="checkbox" name="scopes" value={scope} /> {scope}
              </label>
            ))}
          </div>
        </fieldset>
        {type === "PUBLISHABLE" ? (
          <label>
            Allowed origins (required, one per line)
            <textarea name="origins" rows={2} required placeholder="https://app.example.com" />
          </label>
        ) : (
          <label>
            Allowed IPs (CIDR, empty: any)
            <textarea name="ips" rows={2} placeholder="203.0.113.0/24" />
          </label>
        )}
        <div className="grid2">
          <label>
            Expires (empty: never)
            <input name="expiresAt" type="datetime-local" />
          </label>
          <label>
            Requests per hour (empty: default)
            <input name="rateLimit" type="number" min={1} />
          </label>
        </div>
        <ErrorNotice error={error} />
        <div className="row end">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={busy}>
            Create key
          </button>
        </div>
      </form>
    </Modal>
  );
}
