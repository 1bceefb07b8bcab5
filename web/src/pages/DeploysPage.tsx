import type { KeywardError } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { DeploymentHistory } from "../components/DeploymentHistory";
import { ErrorNotice } from "../components/ErrorNotice";
import { PendingChanges } from "../components/PendingChanges";
import { type Deployment, RollbackModal } from "../components/RollbackModal";
import { canManageKeys } from "../roles";
import { useLoad } from "../useLoad";

/**
 * Deploy-gated keys: verification answers from the latest deployment, so key changes
 * wait here until a key manager publishes them.
 */
export function DeploysPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const manager = canManageKeys(membership.role);
  const { data, error, reload } = useLoad(
    async () => {
      const [next, past] = await Promise.all([
        api.pendingDeployment({ workspaceId }),
        api.deployments({ workspaceId, first: 20 }),
      ]);
      return { pending: next.pendingDeployment, history: past.deployments };
    },
    [workspaceId],
    { enabled: manager },
  );
  const pending = data?.pending ?? null;
  const history = data?.history ?? null;
  const [deployError, setDeployError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);
  const [rollback, setRollback] = useState<Deployment | null>(null);
  const [notice, setNotice] = useState("");

  async function deploy(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const note = String(new FormData(element).get("note") ?? "");
    setDeployError(null);
    setNotice("");
    setBusy(true);
    try {
      await api.deployKeys({ input: { workspaceId, ...(note ? { note } : {}) } });
      element.reset();
      await reload();
    } catch (caught) {
      setDeployError(asKeywardError(caught));
    } finally {
      setBusy(false);
    }
  }

  if (!manager) {
    return (
      <section className="stack">
        <h1>Deploys</h1>
        <p className="empty">Your role in {membership.workspace.name} does not see or publish key deployments.</p>
      </section>
    );
  }

  const nothing = pending && pending.added + pending.changed + pending.removed === 0 && !pending.keysEnabledChanged;
  return (
    <section className="stack">
      <div className="row spread">
        <h1>Deploys</h1>
        <button type="button" className="secondary" onClick={() => void reload()}>
          Refresh
        </button>
      </div>
      <p className="muted">
        This workspace requires deploys: new, changed and revoked keys take effect for verification only once deployed.
      </p>
      <ErrorNotice error={error} />
      {!pending && !error && <p className="loading">Loading pending changes…</p>}
      {pending && (
        <form className="card stack" onSubmit={deploy} aria-label="Deploy keys">
          <h2>Pending changes</h2>
          <PendingChanges pending={pending} />
          <label>
            <span>
              Note <span className="muted">(optional)</span>
            </span>
            <input name="note" maxLength={500} />
          </label>
          <ErrorNotice error={deployError} />
          <div className="row end">
            <button type="submit" disabled={busy || !!nothing}>
              Deploy
            </button>
          </div>
        </form>
      )}
      <h2>History</h2>
      {!history && !error && <p className="loading">Loading deployments…</p>}
      {history?.edges.length === 0 && <p className="empty">Nothing deployed yet.</p>}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {history && history.edges.length > 0 && (
        <DeploymentHistory deployments={history.edges.map((e) => e.node)} onRollback={setRollback} />
      )}
      {history && history.totalCount > history.edges.length && (
        <p className="muted">
          The latest {history.edges.length} of {history.totalCount} deployments.
        </p>
      )}
      {rollback && history && (
        <RollbackModal
          workspaceId={workspaceId}
          target={rollback}
          latest={history.edges[0]?.node.version ?? rollback.version}
          onClose={() => setRollback(null)}
          onRolledBack={async (published) => {
            await reload();
            setRollback(null);
            setNotice(
              `v${published.version} republishes v${published.sourceVersion}: verification answers from it now.`,
            );
          }}
        />
      )}
    </section>
  );
}
