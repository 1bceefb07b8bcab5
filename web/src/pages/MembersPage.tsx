import type { KeywardError, Role } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { MemberRow } from "../components/MemberRow";
import { type Member, RemoveMemberModal } from "../components/RemoveMemberModal";
import { canManageMembers, grantableRoles, ROLE_SUMMARY } from "../roles";
import { useLoad } from "../useLoad";

interface Props {
  membership: Membership;
  /** The signed-in user: their own row is marked, and removing it is leaving. */
  userId: string;
  /** The caller's own role changed or they left: the app reloads who they are. */
  onOwnMembershipChanged: (left: boolean) => Promise<void>;
}

/** Who is in the workspace; for admins, adding someone by email, changing roles, and removing. */
export function MembersPage({ membership, userId, onOwnMembershipChanged }: Props) {
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
  const [removing, setRemoving] = useState<Member | null>(null);
  const manager = canManageMembers(membership.role);

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
        <ul className="cards members" aria-label="Members">
          {members.map((m) => (
            <MemberRow
              // A new role from the server starts the row's select afresh.
              key={`${m.id}:${m.role}`}
              workspaceId={workspaceId}
              member={m}
              viewerRole={membership.role}
              self={m.user.id === userId}
              onSaved={async () => {
                await reload();
                if (m.user.id === userId) await onOwnMembershipChanged(false);
              }}
              onRemove={() => setRemoving(m)}
            />
          ))}
        </ul>
      )}
      {removing && (
        <RemoveMemberModal
          workspaceId={workspaceId}
          workspaceName={membership.workspace.name}
          member={removing}
          self={removing.user.id === userId}
          onClose={() => setRemoving(null)}
          onRemoved={async () => {
            const left = removing.user.id === userId;
            setRemoving(null);
            if (left) await onOwnMembershipChanged(true);
            else await reload();
          }}
        />
      )}
      {manager && (
        <form className="card stack narrow" onSubmit={add} aria-label="Add a member">
          <h2>Add a member</h2>
          <label>
            Email of someone who has signed up
            <input name="email" type="email" required />
          </label>
          <label>
            Role
            <select name="role" defaultValue="MEMBER">
              {grantableRoles(membership.role).map((role) => (
                <option key={role} value={role}>
                  {ROLE_SUMMARY[role]}
                </option>
              ))}
            </select>
          </label>
          <ErrorNotice error={addError} />
          <button type="submit">Add member</button>
        </form>
      )}
    </section>
  );
}
