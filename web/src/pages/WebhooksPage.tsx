import type { Environment, WebhookEndpointsQuery } from "@keyward/sdk";
import { useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { CreateWebhookModal } from "../components/CreateWebhookModal";
import { DeleteWebhookModal } from "../components/DeleteWebhookModal";
import { DeliveriesModal } from "../components/DeliveriesModal";
import { ErrorNotice } from "../components/ErrorNotice";
import { SecretReveal } from "../components/SecretReveal";
import { canManageMembers } from "../roles";
import { useLoad } from "../useLoad";

type Endpoint = WebhookEndpointsQuery["webhookEndpoints"][number];

type Dialog =
  | { kind: "create" }
  | { kind: "secret"; secret: string; url: string; rotated: boolean }
  | { kind: "deliveries"; endpoint: Endpoint }
  | { kind: "delete"; endpoint: Endpoint }
  | null;

/** What a rotation means for the receiver, said where the new secret is shown. */
function RotationNote() {
  return (
    <p className="muted">
      For the next 7 days every delivery is signed with both the old and the new secret, so your receiver keeps working
      while you deploy the new one. After that only the new secret signs.
    </p>
  );
}

/** A workspace's webhook endpoints per environment (webhooks:* is ADMIN and OWNER only). */
export function WebhooksPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const admin = canManageMembers(membership.role);
  const [environment, setEnvironment] = useState<Environment>("TEST");
  const {
    data: endpoints,
    error,
    setError,
    reload,
  } = useLoad(
    async () => (await api.webhookEndpoints({ workspaceId, environment })).webhookEndpoints,
    [workspaceId, environment],
    {
      enabled: admin,
      clear: true,
    },
  );
  const [notice, setNotice] = useState("");
  const [dialog, setDialog] = useState<Dialog>(null);

  /** Runs one endpoint action, showing its failure (or a line saying what happened). */
  async function act(run: () => Promise<string | undefined>) {
    setError(null);
    setNotice("");
    try {
      setNotice((await run()) ?? "");
      await reload();
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }

  if (!admin) {
    return (
      <section className="stack">
        <h1>Webhooks</h1>
        <p className="empty">Only owners and admins of {membership.workspace.name} manage webhooks.</p>
      </section>
    );
  }

  return (
    <section className="stack">
      <div className="row spread">
        <h1>Webhooks</h1>
        <button type="button" onClick={() => setDialog({ kind: "create" })}>
          + Add endpoint
        </button>
      </div>
      <p className="muted">
        Keyward POSTs this workspace's {environment.toLowerCase()} events to each endpoint, signed the Standard Webhooks
        way, and retries failures for about a day.
      </p>
      <div className="row">
        <fieldset className="segmented" aria-label="Environment">
          <legend className="visually-hidden">Environment</legend>
          {(["TEST", "LIVE"] as const).map((env) => (
            <label key={env} className={environment === env ? "on" : ""}>
              <input
                type="radio"
                name="environment"
                value={env}
                checked={environment === env}
                onChange={() => setEnvironment(env)}
              />
              {env === "TEST" ? "Test" : "Live"}
            </label>
          ))}
        </fieldset>
      </div>
      <ErrorNotice error={error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {!endpoints && !error && <p className="loading">Loading endpoints…</p>}
      {endpoints?.length === 0 && <p className="empty">No {environment.toLowerCase()} endpoints yet.</p>}
      {endpoints && endpoints.length > 0 && (
        <ul className="cards endpoints">
          {endpoints.map((e) => (
            <li key={e.id}>
              <span className="stack tight">
                <code className="url">{e.url}</code>
                {e.description && <span>{e.description}</span>}
                <span className="muted">{e.events.join(", ")}</span>
                {e.previousSecretExpiresAt && (
                  <span className="muted">
                    Old secret also signs until {new Date(e.previousSecretExpiresAt).toLocaleString()}
                  </span>
                )}
              </span>
              <span className="row end">
                <label className="toggle">
                  <input
                    type="checkbox"
                    role="switch"
                    aria-checked={e.enabled}
                    checked={e.enabled}
                    onChange={() =>
                      void act(async () => {
                        await api.updateWebhookEndpoint({ input: { id: e.id, enabled: !e.enabled } });
                        return undefined;
                      })
                    }
                  />
                  <span>{e.enabled ? "Enabled" : "Disabled"}</span>
                  <span className="visually-hidden">{e.url}</span>
                </label>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Send a test ping to ${e.url}`}
                  onClick={() =>
                    void act(async () => {
                      await api.sendTestWebhook({ input: { id: e.id } });
                      return `Ping queued for ${e.url}: see its deliveries.`;
                    })
                  }
                >
                  Ping
                </button>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Deliveries to ${e.url}`}
                  onClick={() => setDialog({ kind: "deliveries", endpoint: e })}
                >
                  Deliveries
                </button>
                <button
                  type="button"
                  className="secondary"
                  aria-label={`Rotate the secret of ${e.url}`}
                  onClick={() =>
                    void act(async () => {
                      const { rotateWebhookSecret: r } = await api.rotateWebhookSecret({ input: { id: e.id } });
                      setDialog({ kind: "secret", secret: r.secret, url: r.endpoint.url, rotated: true });
                      return undefined;
                    })
                  }
                >
                  Rotate secret
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${e.url}`}
                  onClick={() => {
                    setNotice("");
                    setDialog({ kind: "delete", endpoint: e });
                  }}
                >
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      {dialog?.kind === "create" && (
        <CreateWebhookModal
          workspaceId={workspaceId}
          environment={environment}
          onClose={() => setDialog(null)}
          onCreated={(secret, url) => {
            setDialog({ kind: "secret", secret, url, rotated: false });
            void reload();
          }}
        />
      )}
      {dialog?.kind === "secret" && (
        <SecretReveal
          kind="webhook"
          secret={dialog.secret}
          name={dialog.url}
          environment={environment}
          note={dialog.rotated && <RotationNote />}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "deliveries" && <DeliveriesModal endpoint={dialog.endpoint} onClose={() => setDialog(null)} />}
      {dialog?.kind === "delete" && (
        <DeleteWebhookModal
          endpoint={dialog.endpoint}
          onClose={() => setDialog(null)}
          onDeleted={async () => {
            await reload();
            setDialog(null);
            setNotice(`Deleted ${dialog.endpoint.url}.`);
          }}
        />
      )}
    </section>
  );
}
