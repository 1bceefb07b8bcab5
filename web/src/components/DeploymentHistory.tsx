import type { Deployment } from "./RollbackModal";

const KIND = { DEPLOY: "Deploy", ROLLBACK: "Rollback", ENABLE: "Deploys required" } as const;

interface Props {
  deployments: Deployment[];
  /** Given to those who may deploy: a "Roll back" button on every version but the newest. */
  onRollback?: (deployment: Deployment) => void;
}

/** Published versions, newest first (cards at phone width, like the keys table). */
export function DeploymentHistory({ deployments, onRollback }: Props) {
  const newest = deployments[0]?.version;
  return (
    <div className="table-wrap">
      <table className="keys deployments">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Kind</th>
            <th scope="col">Keys</th>
            <th scope="col">Changes</th>
            <th scope="col">Note</th>
            <th scope="col">By</th>
            <th scope="col">When</th>
            {onRollback && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr key={d.id}>
              <td data-label="Version">
                <strong>v{d.version}</strong>
              </td>
              <td data-label="Kind">
                {d.sourceVersion ? <span className="badge warn">Rollback to v{d.sourceVersion}</span> : KIND[d.kind]}
              </td>
              <td data-label="Keys">
                {d.keyCount}
                {d.keysEnabled ? "" : " (switched off)"}
              </td>
              <td data-label="Changes">
                +{d.added} ~{d.changed} −{d.removed}
              </td>
              <td data-label="Note">{d.note || "—"}</td>
              <td data-label="By">{d.createdBy?.name ?? "—"}</td>
              <td data-label="When">{new Date(d.createdAt).toLocaleString()}</td>
              {onRollback && (
                <td className="actions">
                  {d.version !== newest && (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Roll back to v${d.version}`}
                      onClick={() => onRollback(d)}
                    >
                      Roll back
                    </button>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
