import type { KeywardError } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import type { Route } from "../route";

interface Props {
  memberships: Membership[];
  /** A workspace the address named that this user cannot see. */
  missing: string | null;
  onCreated: (slug: string) => void;
  go: (route: Route) => void;
}

/** The user's workspaces, and a form to create one. */
export function HomePage({ memberships, missing, onCreated, go }: Props) {
  const [error, setError] = useState<KeywardError | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { createWorkspace } = await api.createWorkspace({
        input: { name: String(form.get("name") ?? ""), slug: String(form.get("slug") ?? "") },
      });
      onCreated(createWorkspace.slug);
    } catch (caught) {
      setError(asKeywardError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      {missing && (
        <p className="error" role="alert">
          No workspace “{missing}” is visible to you.
        </p>
      )}
      <h1>Workspaces</h1>
      {memberships.length === 0 ? (
        <p className="empty">You are in no workspace yet. Create one to issue API keys.</p>
      ) : (
        <ul className="cards">
          {memberships.map((m) => (
            <li key={m.workspace.id}>
              <a
                href={`/dashboard/w/${m.workspace.slug}/keys`}
                onClick={(event) => {
                  event.preventDefault();
                  go({ page: "keys", slug: m.workspace.slug });
                }}
              >
                <strong>{m.workspace.name}</strong> <span className="muted">{m.workspace.slug}</span>
              </a>
              <span className="badge">{m.role}</span>
            </li>
          ))}
        </ul>
      )}
      <form className="card stack narrow" onSubmit={create} aria-label="Create a workspace">
        <h2>Create a workspace</h2>
        <label>
          Name
          <input name="name" required maxLength={100} />
        </label>
        <label>
          Slug <span className="muted">(3–40 of a-z, 0-9, -)</span>
          <input name="slug" required pattern="[a-z0-9\-]{3,40}" />
        </label>
        <ErrorNotice error={error} />
        <button type="submit" disabled={busy}>
          Create workspace
        </button>
      </form>
    </div>
  );
}
