import type { KeywardError, ServicesQuery } from "@keyward/sdk";
import { type FormEvent, useState } from "react";
import type { Membership } from "../App";
import { api, asKeywardError } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { canManageMembers } from "../roles";
import { useLoad } from "../useLoad";

type Service = ServicesQuery["services"][number];

/** A workspace's services, each with its active switch (admins), and a form to add one. */
export function ServicesPage({ membership }: { membership: Membership }) {
  const workspaceId = membership.workspace.id;
  const admin = canManageMembers(membership.role);
  const {
    data: services,
    error,
    setError,
    reload,
  } = useLoad(async () => (await api.services({ workspaceId })).services, [workspaceId]);
  const [formError, setFormError] = useState<KeywardError | null>(null);

  async function toggle(service: Service) {
    setError(null);
    try {
      await api.setServiceActive({ input: { id: service.id, active: !service.active } });
      await reload();
    } catch (caught) {
      setError(asKeywardError(caught));
    }
  }

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    setFormError(null);
    try {
      await api.createService({
        input: { workspaceId, name: String(form.get("name") ?? ""), slug: String(form.get("slug") ?? "") },
      });
      element.reset();
      await reload();
    } catch (caught) {
      setFormError(asKeywardError(caught));
    }
  }

  return (
    <section className="stack">
      <h1>Services</h1>
      <p className="muted">
        While a service is off, keys bound to it, and verifications requiring its scopes, answer service_inactive.
      </p>
      <ErrorNotice error={error} />
      {!services && !error && <p className="loading">Loading services…</p>}
      {services?.length === 0 && <p className="empty">No services yet.</p>}
      {services && services.length > 0 && (
        <ul className="cards">
          {services.map((service) => (
            <li key={service.id}>
              <span>
                <strong>{service.name}</strong> <code className="muted">service.{service.slug}.*</code>
              </span>
              {admin ? (
                <label className="toggle">
                  <input
                    type="checkbox"
                    role="switch"
                    aria-checked={service.active}
                    checked={service.active}
                    onChange={() => void toggle(service)}
                  />
                  <span>{service.active ? "Active" : "Off"}</span>
                  <span className="visually-hidden">{service.name}</span>
                </label>
              ) : (
                <span className={`badge ${service.active ? "ok" : "bad"}`}>{service.active ? "ACTIVE" : "OFF"}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && (
        <form className="card stack narrow" onSubmit={create} aria-label="Add a service">
          <h2>Add a service</h2>
          <label>
            Name
            <input name="name" required maxLength={100} />
          </label>
          <label>
            Slug <span className="muted">(used in scopes: service.&lt;slug&gt;.read)</span>
            <input name="slug" required pattern="[a-z0-9\-]{1,40}" />
          </label>
          <ErrorNotice error={formError} />
          <button type="submit">Add service</button>
        </form>
      )}
    </section>
  );
}
