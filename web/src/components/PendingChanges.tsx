import type { PendingDeploymentQuery } from "@keyward/sdk";

type Pending = PendingDeploymentQuery["pendingDeployment"];

const BADGE = { ADDED: "ok", CHANGED: "warn", REMOVED: "bad" } as const;

/** What the next deployment would publish, compared with the latest one. */
export function PendingChanges({ pending }: { pending: Pending }) {
  const total = pending.added + pending.changed + pending.removed;
  if (total === 0 && !pending.keysEnabledChanged) {
    return <p className="empty">Nothing to deploy: verification already answers from the current keys.</p>;
  }
  return (
    <div className="stack">
      <p>
        {pending.added} added, {pending.changed} changed, {pending.removed} removed
        {pending.baseVersion ? ` since version ${pending.baseVersion}` : ""}.
        {pending.keysEnabledChanged && <strong> The key switch goes {pending.keysEnabled ? "on" : "off"}.</strong>}
      </p>
      {pending.changes.length > 0 && (
        <ul className="cards changes">
          {pending.changes.map((c) => (
            <li key={`${c.keyId}-${c.change}`}>
              <span>
                <strong>{c.name}</strong> <code className="muted">{c.start}…</code>{" "}
                <span className="muted">
                  {c.type.toLowerCase()} · {c.environment.toLowerCase()}
                  {/* A new key differs in every field: only a change says which. */}
                  {c.change === "CHANGED" && c.fields.length > 0 ? ` · ${c.fields.join(", ")}` : ""}
                </span>
              </span>
              <span className={`badge ${BADGE[c.change]}`}>{c.change}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
