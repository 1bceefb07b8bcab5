import type { AudiencesQuery, KeywardError } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { RenameAudience } from "../components/RenameAudience";
import { canManageMembers } from "../roles";
import { useLoad } from "../useLoad";

type Audience = AudiencesQuery["audiences"][number];

/**
 * A workspace's audience tree: what audience tokens name, each node indented under its
 * parent (the API lists each root followed by its subtree). Admins add, rename and delete.
 */
export function AudiencesPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const admin = canManageMembers(membership.role);
  const {
    data: audiences,
    error,
    setError,
    reload,
  } = useLoad(async () => (await api.audiences({ workspaceId })).audiences, [workspaceId]);
  const [formError, setFormError] = useState<KeywardError | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [notice, setNotice] = useState("");

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const parent = String(form.get("parent") ?? "");
    setFormError(null);
    try {
      await api.createAudience({
        input: { workspaceId, name: String(form.get("name") ?? ""), ...(parent ? { parent } : {}) },
      });
      element.reset();
      await reload();
    } catch (caught) {
      setFormError(asKeywardError(caught));
    }
  }

  async function remove(audience: Audience) {
    setError(null);
    setNotice("");
    try {
      await api.deleteAudience({ input: { id: audience.id } });
      await reload();
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }

  const parents = new Set(audiences?.map((a) => a.parent));
  return (
    <section className="stack">
      <h1>Audiences</h1>
      <p className="muted">
        An audience token names one of these; verifying it answers the audience's path, from its root down to it.
      </p>
      <ErrorNotice error={error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {!audiences && !error && <p className="loading">Loading audiences…</p>}
      {audiences?.length === 0 && <p className="empty">No audiences yet.</p>}
      {audiences && audiences.length > 0 && (
        <ul className="cards tree" aria-label="Audience tree">
          {audiences.map((a) => (
            <li key={a.id} style={{ marginLeft: `${(a.path.length - 1) * 1.5}rem` }}>
              {renaming === a.id ? (
                <RenameAudience
                  audience={a}
                  hasChildren={parents.has(a.name)}
                  onCancel={() => setRenaming(null)}
                  onRenamed={async (name) => {
                    // The row shows the new name (and its children their new path) once the form goes.
                    await reload();
                    setRenaming(null);
                    setNotice(`Renamed ${a.name} to ${name}.`);
                  }}
                />
              ) : (
                <>
                  <span>
                    <strong>{a.name}</strong>{" "}
                    {a.path.length > 1 && <span className="muted">{a.path.slice().reverse().join(" › ")}</span>}
                  </span>
                  {admin && (
                    <span className="row end">
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Rename ${a.name}`}
                        onClick={() => {
                          setNotice("");
                          setRenaming(a.id);
                        }}
                      >
                        Rename
                      </button>
                      {!parents.has(a.name) && (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Delete ${a.name}`}
                          onClick={() => void remove(a)}
                        >
                          Delete
                        </button>
                      )}
                    </span>
                  )}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && (
        <form className="card stack narrow" onSubmit={create} aria-label="Add an audience">
          <h2>Add an audience</h2>
          <label>
            Name
            <input name="name" required maxLength={64} pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" />
          </label>
          <label>
            Parent
            <select name="parent" defaultValue="">
              <option value="">None: a new root</option>
              {audiences?.map((a) => (
                <option key={a.id} value={a.name}>
                  {a.path.slice().reverse().join(" › ")}
                </option>
              ))}
            </select>
          </label>
          <ErrorNotice error={formError} />
          <button type="submit">Add audience</button>
        </form>
      )}
    </section>
  );
}
