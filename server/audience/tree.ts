import { z } from "zod";

// A workspace's audiences form a tree (enterprise → enterprise_b). A token names
// one node; verification answers that node's path up to its root. Pure: rows in,
// nodes with their paths out.

/** Nodes per workspace: every tree is held in memory on the verification path. */
export const MAX_AUDIENCES = 1000;
/** Levels from a root to its deepest node, the root included. */
export const MAX_DEPTH = 8;
export const NAME_MAX = 64;

export const audienceName = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${NAME_MAX - 1}}$`),
    `must be 1 to ${NAME_MAX} letters, digits, _ . or -, starting with a letter or digit`,
  );

export interface AudienceRow {
  id: string;
  workspaceId: string;
  name: string;
  parentId: string | null;
  createdAt: Date;
}

export interface AudienceNode extends AudienceRow {
  /** The parent's name; null for a root. */
  parent: string | null;
  /** This audience's name, then each ancestor's, ending with the root's. */
  path: readonly string[];
}

export type AudienceTree = ReadonlyMap<string, AudienceNode>;

/** The tree by name. A row whose chain of parents is broken or loops is left out (the database allows neither). */
export function buildTree(rows: readonly AudienceRow[]): AudienceTree {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const tree = new Map<string, AudienceNode>();
  for (const row of rows) {
    const path = pathOf(row, byId);
    if (!path) continue;
    const parent = row.parentId === null ? null : (byId.get(row.parentId)?.name ?? null);
    tree.set(row.name, { ...row, parent, path: Object.freeze(path) });
  }
  return tree;
}

function pathOf(row: AudienceRow, byId: ReadonlyMap<string, AudienceRow>): string[] | null {
  const seen = new Set<string>();
  const path: string[] = [];
  let at: AudienceRow | undefined = row;
  while (at) {
    if (seen.has(at.id)) return null;
    seen.add(at.id);
    path.push(at.name);
    if (at.parentId === null) return path;
    at = byId.get(at.parentId);
  }
  return null;
}

/** Nodes in display order: each root, then its subtree, siblings by name. */
export function treeOrder(tree: AudienceTree): AudienceNode[] {
  const key = (node: AudienceNode) => [...node.path].reverse();
  return [...tree.values()].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const left = x[i] as string;
      const right = y[i] as string;
      if (left !== right) return left < right ? -1 : 1;
    }
    return x.length - y.length;
  });
}
