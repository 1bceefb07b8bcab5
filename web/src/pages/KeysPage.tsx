import type { ApiKeyStatus, ApiKeysQuery, ApiKeyType, Environment } from "@keyward/sdk";
import { useState } from "react";
import type { Membership } from "../App";
import { api } from "../api";
import { CreateKeyModal } from "../components/CreateKeyModal";
import { ErrorNotice } from "../components/ErrorNotice";
import { KeysSwitch } from "../components/KeysSwitch";
import { KeysTable } from "../components/KeysTable";
import { Pager } from "../components/Pager";
import { RevokeModal } from "../components/RevokeModal";
import { RollModal } from "../components/RollModal";
import { SecretReveal } from "../components/SecretReveal";
import { UsageModal } from "../components/UsageModal";
import { canManageKeys } from "../roles";
import { useLoad } from "../useLoad";

export type KeyRow = ApiKeysQuery["apiKeys"]["edges"][number]["node"];
const PAGE = 10;

type Dialog =
  | { kind: "create" }
  | { kind: "secret"; secret: string; name: string; environment: Environment }
  | { kind: "roll"; key: KeyRow }
  | { kind: "revoke"; key: KeyRow }
  | { kind: "usage"; key: KeyRow }
  | null;

/** A workspace's keys: TEST/LIVE, filters, paging, and (for key managers) every key action. */
export function KeysPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const manager = canManageKeys(membership.role);
  const [environment, setEnvironment] = useState<Environment>("TEST");
  const [type, setType] = useState<ApiKeyType | "">("");
  const [status, setStatus] = useState<ApiKeyStatus | "">("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [dialog, setDialog] = useState<Dialog>(null);
  const after = cursors[cursors.length - 1] ?? null;

  const {
    data,
    error,
    reload: load,
  } = useLoad(
    async () => {
      const { apiKeys } = await api.apiKeys({
        workspaceId,
        environment,
        first: PAGE,
        ...(type ? { type } : {}),
        ...(status ? { status } : {}),
        ...(after ? { after } : {}),
      });
      return apiKeys;
    },
    [workspaceId, environment, type, status, after],
    { enabled: manager, clear: true },
  );

  const resetPaging = () => setCursors([null]);

  if (!manager) {
    return (
      <section className="stack">
        <h1>API keys</h1>
        <p className="empty">
          Your role in {membership.workspace.name} is <strong>{membership.role}</strong>: it does not show or manage API
          keys. Ask an admin for the Moderator role.
        </p>
      </section>
    );
  }

  return (
    <section className="stack">
      <div className="row spread">
        <h1>API keys</h1>
        <button type="button" onClick={() => setDialog({ kind: "create" })}>
          + Create secret key
        </button>
      </div>
      <KeysSwitch workspaceId={workspaceId} />
      <div className="row filters">
        <fieldset className="segmented" aria-label="Environment">
          <legend className="visually-hidden">Environment</legend>
          {(["TEST", "LIVE"] as const).map((env) => (
            <label key={env} className={environment === env ? "on" : ""}>
              <input
                type="radio"
                name="environment"
                value={env}
                checked={environment === env}
                onChange={() => {
                  setEnvironment(env);
                  resetPaging();
                }}
              />
              {env === "TEST" ? "Test" : "Live"}
            </label>
          ))}
        </fieldset>
        <label>
          Type{" "}
          <select
            value={type}
            onChange={(event) => {
              setType(event.target.value as ApiKeyType | "");
              resetPaging();
            }}
          >
            <option value="">All</option>
            <option value="SECRET">Secret</option>
            <option value="PUBLISHABLE">Publishable</option>
          </select>
        </label>
        <label>
          Status{" "}
          <select
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as ApiKeyStatus | "");
              resetPaging();
            }}
          >
            <option value="">All</option>
            <option value="ACTIVE">Active</option>
            <option value="ROLLING">Rolling</option>
            <option value="EXPIRED">Expired</option>
            <option value="REVOKED">Revoked</option>
          </select>
        </label>
      </div>
      <ErrorNotice error={error} />
      {!data && !error && <p className="loading">Loading keys…</p>}
      {data && data.edges.length === 0 && (
        <p className="empty">No {environment.toLowerCase()} keys match. Create one to get started.</p>
      )}
      {data && data.edges.length > 0 && (
        <>
          <KeysTable
            rows={data.edges.map((e) => e.node)}
            onRoll={(key) => setDialog({ kind: "roll", key })}
            onRevoke={(key) => setDialog({ kind: "revoke", key })}
            onUsage={(key) => setDialog({ kind: "usage", key })}
          />
          <Pager
            totalCount={data.totalCount}
            noun="key"
            cursors={cursors}
            setCursors={setCursors}
            pageInfo={data.pageInfo}
            back="Previous"
            forward="Next"
          />
        </>
      )}
      {dialog?.kind === "create" && (
        <CreateKeyModal
          workspaceId={workspaceId}
          role={membership.role}
          environment={environment}
          onClose={() => setDialog(null)}
          onCreated={(secret, name, env) => {
            setDialog({ kind: "secret", secret, name, environment: env });
            void load();
          }}
        />
      )}
      {dialog?.kind === "secret" && (
        <SecretReveal
          secret={dialog.secret}
          name={dialog.name}
          environment={dialog.environment}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === "roll" && (
        <RollModal
          apiKey={dialog.key}
          onClose={() => setDialog(null)}
          onRolled={(secret) => {
            setDialog({ kind: "secret", secret, name: dialog.key.name, environment: dialog.key.environment });
            void load();
          }}
        />
      )}
      {dialog?.kind === "usage" && <UsageModal apiKey={dialog.key} onClose={() => setDialog(null)} />}
      {dialog?.kind === "revoke" && (
        <RevokeModal
          apiKey={dialog.key}
          onClose={() => setDialog(null)}
          onRevoked={() => {
            setDialog(null);
            void load();
          }}
        />
      )}
    </section>
  );
}
