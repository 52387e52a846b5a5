// Node selection as kube-scheduler does it for the constraints the operator uses: nodeSelector and
// required node affinity (matchExpressions on labels, matchFields on metadata.name), on Ready,
// uncordoned nodes; among the feasible nodes the least loaded wins (ties by name, so it is stable).
import type { Node } from "./types.js";

/** The parts of a node selector requirement both the core and the KubeVirt types share. */
export interface SelectorRequirement {
  key: string;
  operator: string;
  values?: readonly string[] | null;
}

export interface SelectorTerm {
  matchExpressions?: readonly SelectorRequirement[] | null;
  matchFields?: readonly SelectorRequirement[] | null;
}

/** What pods and VMIs say about where they may run. */
export interface Placement {
  nodeSelector?: Readonly<Record<string, string>> | null;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: readonly SelectorTerm[] } | null;
    } | null;
  } | null;
}

export function requirementMatches(requirement: SelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      const bound = Number(values[0]);
      const actual = Number(value);
      if (value === undefined || !Number.isInteger(bound) || !Number.isInteger(actual)) return false;
      return requirement.operator === "Gt" ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

function termMatches(term: SelectorTerm, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term matches nothing, as in Kubernetes.
  if (expressions.length === 0 && fields.length === 0) return false;
  return (
    expressions.every((r) => requirementMatches(r, labels[r.key])) &&
    fields.every((r) => r.key === "metadata.name" && requirementMatches(r, node.metadata.name))
  );
}

/** nodeSelector (all pairs) and required node affinity (any term). */
export function placementAllows(placement: Placement, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(placement.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const required = placement.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined || required === null) return true;
  return required.nodeSelectorTerms.some((term) => termMatches(term, node));
}

export function nodeIsReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function nodeIsSchedulable(node: Node): boolean {
  return nodeIsReady(node) && node.spec?.unschedulable !== true && node.metadata.deletionTimestamp === undefined;
}

export type ScheduleResult = { node: Node } | { node: undefined; message: string };

/**
 * The node to run on: feasible for `placement`, not excluded, least `load` first. Otherwise a
 * message in kube-scheduler's words ("0/2 nodes are available: …").
 */
export function pickNode(
  nodes: readonly Node[],
  placement: Placement,
  load: ReadonlyMap<string, number>,
  exclude: ReadonlySet<string> = new Set(),
): ScheduleResult {
  if (nodes.length === 0) return { node: undefined, message: "no nodes available to schedule pods" };
  let notReady = 0;
  let cordoned = 0;
  let mismatched = 0;
  let excluded = 0;
  const feasible: Node[] = [];
  for (const node of nodes) {
    const name = node.metadata.name ?? "";
    if (exclude.has(name)) excluded++;
    else if (!nodeIsReady(node)) notReady++;
    else if (!nodeIsSchedulable(node)) cordoned++;
    else if (!placementAllows(placement, node)) mismatched++;
    else feasible.push(node);
  }
  const best = feasible
    .map((node) => ({ node, name: node.metadata.name ?? "", load: load.get(node.metadata.name ?? "") ?? 0 }))
    .sort((a, b) => a.load - b.load || a.name.localeCompare(b.name))[0];
  if (best !== undefined) return { node: best.node };
  const reasons = [
    mismatched > 0 ? `${mismatched} node(s) didn't match Pod's node affinity/selector` : "",
    cordoned > 0 ? `${cordoned} node(s) were unschedulable` : "",
    notReady > 0 ? `${notReady} node(s) had untolerated taint {node.kubernetes.io/not-ready: }` : "",
    excluded > 0 ? `${excluded} node(s) are the migration source` : "",
  ].filter((r) => r !== "");
  return { node: undefined, message: `0/${nodes.length} nodes are available: ${reasons.join(", ")}.` };
}

/** How many workloads each node runs, from the node names the workloads report. */
export function loadByNode(nodeNames: Iterable<string | undefined>): Map<string, number> {
  const load = new Map<string, number>();
  for (const name of nodeNames) {
    if (name === undefined || name === "") continue;
    load.set(name, (load.get(name) ?? 0) + 1);
  }
  return load;
}
