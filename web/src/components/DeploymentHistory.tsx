import type { DeploymentsQuery } from "@keyward/sdk";

type Deployment = DeploymentsQuery["deployments"]["edges"][number]["node"];

const KIND = { DEPLOY: "Deploy", ROLLBACK: "Rollback", ENABLE: "Deploys required" } as const;

/** Published versions, newest first (cards at phone width, like the keys table). */
export function DeploymentHistory({ deployments }: { deployments: Deployment[] }) {
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
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr key={d.id}>
              <td data-label="Version">
                <strong>v{d.version}</strong>
              </td>
              <td data-label="Kind">
                {KIND[d.kind]}
                {d.sourceVersion ? ` of v${d.sourceVersion}` : ""}
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
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
