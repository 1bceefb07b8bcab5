import type { KeywardError, Role, WorkspaceMembersQuery } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { canManageMembers } from "../roles";
import { useLoad } from "../useLoad";

type Member = NonNullable<WorkspaceMembersQuery["workspace"]>["members"][number];

/** Who is in the workspace, and (for admins) adding someone by email. */
export function MembersPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const {
    data: members,
    error,
    reload,
  } = useLoad(async (): Promise<Member[]> => {
    const { workspace } = await api.workspaceMembers({ id: workspaceId });
    return workspace?.members ?? [];
  }, [workspaceId]);
  const [addError, setAddError] = useState<KeywardError | null>(null);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    setAddError(null);
    try {
      await api.addMember({
        input: { workspaceId, email: String(form.get("email") ?? ""), role: String(form.get("role")) as Role },
      });
      element.reset();
      await reload();
    } catch (caught) {
      setAddError(asKeywardError(caught));
    }
  }

  return (
    <section className="stack">
      <h1>Members</h1>
      <ErrorNotice error={error} />
      {!members && !error && <p className="loading">Loading members…</p>}
      {members && (
        <ul className="cards">
          {members.map((m) => (
            <li key={m.id}>
              <span>
                <strong>{m.user.name}</strong> <span className="muted">{m.user.email}</span>
              </span>
              <span className="badge">{m.role}</span>
            </li>
          ))}
        </ul>
      )}
      {canManageMembers(membership.role) && (
        <form className="card stack narrow" onSubmit={add} aria-label="Add a member">
          <h2>Add a member</h2>
          <label>
            Email of someone who has signed up
            <input name="email" type="email" required />
          </label>
          <label>
            Role
            <select name="role" defaultValue="MEMBER">
              <option value="MEMBER">Member: sees the workspace, nothing about keys</option>
              <option value="MODERATOR">Moderator: manages keys</option>
              <option value="ADMIN">Admin: everything but ownership</option>
            </select>
          </label>
          <ErrorNotice error={addError} />
          <button type="submit">Add member</button>
        </form>
      )}
    </section>
  );
}
