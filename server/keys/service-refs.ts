import type { Failure } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { isUuid } from "../loaders";
import type { KeyManager } from "./grants";
import { serviceOfScope } from "./scopes";

// What a key may say about services: its service scopes name services of its own
// workspace, it is bound to at most one of them, and then it carries no other
// service's scopes. A publishable key that reaches a service is issued for that
// one service (bound to it), so a browser key never spans services.

type Tx = Prisma.TransactionClient;

export interface ServiceSettings {
  type: "SECRET" | "PUBLISHABLE";
  scopes: readonly string[];
  serviceId: string | null;
}

/** The services a scope list names, each once. */
export function servicesNamed(scopes: readonly string[]): string[] {
  const slugs = new Set<string>();
  for (const scope of scopes) {
    const slug = serviceOfScope(scope);
    if (slug !== null) slugs.add(slug);
  }
  return [...slugs];
}

/**
 * A key bound to a service makes only keys bound to that service: a key minted
 * unbound would keep working once the service is switched off. Returns the service
 * the new key is bound to (the caller's, when the input names none).
 */
export function inheritedService(caller: KeyManager, requested: string | null): Failure | { serviceId: string | null } {
  if (caller.serviceId === null) return { serviceId: requested };
  if (requested !== null && requested !== caller.serviceId) {
    return {
      code: "insufficient_permissions",
      message: "serviceId: a key bound to a service makes only keys bound to the same service.",
      field: "serviceId",
    };
  }
  return { serviceId: caller.serviceId };
}

/** For a new key: the service it is bound to, once its settings pass the rules above and below. */
export async function bindService(
  tx: Tx,
  caller: KeyManager,
  settings: Omit<ServiceSettings, "serviceId"> & { serviceId?: string | null | undefined },
): Promise<Failure | { serviceId: string | null }> {
  const bound = inheritedService(caller, settings.serviceId ?? null);
  if ("code" in bound) return bound;
  return (await checkServiceRefs(tx, caller.workspaceId, { ...settings, serviceId: bound.serviceId })) ?? bound;
}

/** Checks the settings against the workspace's services (one query at most). */
export async function checkServiceRefs(
  tx: Tx,
  workspaceId: string,
  settings: ServiceSettings,
): Promise<Failure | null> {
  const named = servicesNamed(settings.scopes);
  let bound: string | null = null;
  if (settings.serviceId !== null) {
    const service = isUuid(settings.serviceId)
      ? await tx.service.findFirst({ where: { id: settings.serviceId, workspaceId }, select: { slug: true } })
      : null;
    // Another workspace's service and a missing one answer alike.
    if (!service) return { code: "not_found", message: "serviceId: no such service.", field: "serviceId" };
    bound = service.slug;
    const foreign = named.find((slug) => slug !== bound);
    if (foreign !== undefined) {
      return {
        code: "validation_failed",
        message: `scopes: a key bound to the ${bound} service holds only service.${bound}.<action> service scopes, not those of ${foreign}`,
        field: "scopes",
      };
    }
  } else if (settings.type === "PUBLISHABLE" && named.length > 0) {
    return {
      code: "validation_failed",
      message:
        "serviceId: a publishable key with service scopes is issued for one service: bind it with serviceId when creating it",
      field: "serviceId",
    };
  }
  const unchecked = named.filter((slug) => slug !== bound);
  if (unchecked.length === 0) return null;
  const found = await tx.service.findMany({
    where: { workspaceId, slug: { in: unchecked } },
    select: { slug: true },
  });
  const known = new Set(found.map((service) => service.slug));
  const missing = unchecked.find((slug) => !known.has(slug));
  if (missing === undefined) return null;
  return {
    code: "validation_failed",
    message: `scopes: this workspace has no service "${missing}"; create it with createService first`,
    field: "scopes",
  };
}
