// Node selection as kube-scheduler does it for the constraints the operator uses: nodeSelector and
// required node affinity (matchExpressions on labels, matchFields on metadata.name), on Ready,
// uncordoned nodes; required inter-pod (anti-)affinity against the workloads already placed (both
// the incoming workload's terms and the required anti-affinity of those already placed); among the
// feasible nodes the highest preferred inter-pod (anti-)affinity score wins, then the least loaded
// (ties by name, so it is stable).
//
// Not simulated: a non-empty namespaceSelector (the simulator has no Namespace labels; such a term
// sees only its `namespaces` list, or the workload's own namespace when that is empty),
// matchLabelKeys/mismatchLabelKeys, and the preferred terms of workloads already placed (kube-scheduler
// also scores those symmetrically). An empty namespaceSelector ({}) means every namespace, as upstream.
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

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>> | null;
  matchExpressions?: readonly SelectorRequirement[] | null;
}

/** A pod (anti-)affinity term, as core/v1 and KubeVirt both spell it. */
export interface PodAffinityTerm {
  labelSelector?: LabelSelector | null;
  namespaces?: readonly string[] | null;
  namespaceSelector?: LabelSelector | null;
  topologyKey: string;
}

export interface PodAffinityRules {
  requiredDuringSchedulingIgnoredDuringExecution?: readonly PodAffinityTerm[] | null;
  preferredDuringSchedulingIgnoredDuringExecution?: readonly { weight: number; podAffinityTerm: PodAffinityTerm }[] | null;
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: readonly SelectorTerm[] } | null;
  } | null;
  podAffinity?: PodAffinityRules | null;
  podAntiAffinity?: PodAffinityRules | null;
}

/** What pods and VMIs say about where they may run. */
export interface Placement {
  nodeSelector?: Readonly<Record<string, string>> | null;
  affinity?: Affinity | null;
  /** The workload's own namespace and labels: what pod-affinity terms (its own and others') are matched against. */
  namespace?: string;
  labels?: Readonly<Record<string, string>> | null;
}

/** A pod or VMI already on a node (or assumed there), as inter-pod affinity sees it. */
export interface PlacedWorkload {
  /** Distinguishes the workload being scheduled from its own earlier placement (a VMI's UID). */
  uid: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  nodeName: string;
  affinity?: Affinity | null;
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

/** matchLabels and matchExpressions, ANDed; a missing selector matches nothing, an empty one everything. */
export function labelSelectorMatches(selector: LabelSelector | null | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined || selector === null) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((r) => requirementMatches(r, labels[r.key]));
}

/** Whether `term`, written by a workload in `ownerNamespace`, selects `target`. */
export function termSelects(term: PodAffinityTerm, ownerNamespace: string, target: { namespace: string; labels: Readonly<Record<string, string>> }): boolean {
  const selector = term.namespaceSelector;
  const allNamespaces =
    selector !== undefined && selector !== null && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  const listed = term.namespaces ?? [];
  const inScope = allNamespaces || (listed.length > 0 ? listed.includes(target.namespace) : target.namespace === ownerNamespace);
  return inScope && labelSelectorMatches(term.labelSelector, target.labels);
}

/** Why a node fails inter-pod affinity, in kube-scheduler's words (the order its InterPodAffinity filter checks). */
export const InterPodReason = {
  affinity: "node(s) didn't match pod affinity rules",
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
} as const;
export type InterPodReason = (typeof InterPodReason)[keyof typeof InterPodReason];

/** Counts per topology pair ("key=value" of a node label). */
class TopologyCounts {
  private readonly counts = new Map<string, number>();

  add(key: string, value: string | undefined, by: number): void {
    if (value === undefined) return;
    const pair = `${key}=${value}`;
    this.counts.set(pair, (this.counts.get(pair) ?? 0) + by);
  }

  on(node: Node, key: string): number {
    const value = node.metadata.labels?.[key];
    return value === undefined ? 0 : (this.counts.get(`${key}=${value}`) ?? 0);
  }

  get empty(): boolean {
    return this.counts.size === 0;
  }
}

export interface InterPodAffinity {
  /** Why `node` is refused, or undefined when the inter-pod rules allow it. */
  refuses(node: Node): InterPodReason | undefined;
  /** Preferred (anti-)affinity: the sum of weights of matching workloads in the node's topology. */
  score(node: Node): number;
}

/**
 * kube-scheduler's InterPodAffinity plugin for one incoming workload: the pre-computed topology
 * counts of the workloads already placed (the workload's own earlier placement, by UID, excluded).
 */
export function interPodAffinity(placement: Placement, placed: readonly PlacedWorkload[], nodes: readonly Node[], self?: string): InterPodAffinity {
  const incoming = { namespace: placement.namespace ?? "", labels: placement.labels ?? {} };
  const nodeLabels = new Map(nodes.map((n) => [n.metadata.name ?? "", n.metadata.labels ?? {}]));
  const others = placed.filter((w) => (self === undefined || w.uid !== self) && nodeLabels.has(w.nodeName));
  const labelOf = (w: PlacedWorkload, key: string): string | undefined => nodeLabels.get(w.nodeName)?.[key];

  const affinityTerms = placement.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const antiTerms = placement.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  const affinity = new TopologyCounts();
  const anti = new TopologyCounts();
  const existingAnti = new TopologyCounts();
  const existingAntiKeys = new Set<string>();
  const preferred = new TopologyCounts();
  const preferredKeys = new Set<string>();
  const weighted = [
    ...(placement.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => ({ ...p, sign: 1 })),
    ...(placement.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => ({ ...p, sign: -1 })),
  ];
  for (const w of others) {
    // Affinity counts only workloads that match every required term, as upstream.
    if (affinityTerms.length > 0 && affinityTerms.every((t) => termSelects(t, incoming.namespace, w))) {
      for (const t of affinityTerms) affinity.add(t.topologyKey, labelOf(w, t.topologyKey), 1);
    }
    for (const t of antiTerms) if (termSelects(t, incoming.namespace, w)) anti.add(t.topologyKey, labelOf(w, t.topologyKey), 1);
    for (const t of w.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (!termSelects(t, w.namespace, incoming)) continue;
      existingAnti.add(t.topologyKey, labelOf(w, t.topologyKey), 1);
      existingAntiKeys.add(t.topologyKey);
    }
    for (const p of weighted) {
      if (!termSelects(p.podAffinityTerm, incoming.namespace, w)) continue;
      preferred.add(p.podAffinityTerm.topologyKey, labelOf(w, p.podAffinityTerm.topologyKey), p.sign * p.weight);
      preferredKeys.add(p.podAffinityTerm.topologyKey);
    }
  }
  // The first of a group with affinity to itself may go anywhere its terms' topologies exist.
  const firstOfItsGroup = affinity.empty && affinityTerms.every((t) => termSelects(t, incoming.namespace, incoming));

  return {
    refuses(node) {
      const labels = node.metadata.labels ?? {};
      if (affinityTerms.length > 0) {
        if (!affinityTerms.every((t) => labels[t.topologyKey] !== undefined)) return InterPodReason.affinity;
        if (!firstOfItsGroup && !affinityTerms.every((t) => affinity.on(node, t.topologyKey) > 0)) return InterPodReason.affinity;
      }
      if (antiTerms.some((t) => anti.on(node, t.topologyKey) > 0)) return InterPodReason.antiAffinity;
      if ([...existingAntiKeys].some((key) => existingAnti.on(node, key) > 0)) return InterPodReason.existingAntiAffinity;
      return undefined;
    },
    score(node) {
      let sum = 0;
      for (const key of preferredKeys) sum += preferred.on(node, key);
      return sum;
    },
  };
}

/** Whether the scheduler turned the workload away (PodScheduled=False): it waits for room to appear. */
export function turnedAway(conditions: readonly { type: string; status: string }[] | null | undefined): boolean {
  return (conditions ?? []).some((c) => c.type === "PodScheduled" && c.status === "False");
}

export type ScheduleResult = { node: Node } | { node: undefined; message: string };

/**
 * The node to run on: feasible for `placement` (inter-pod rules against `placed`), not excluded,
 * highest preferred-affinity score, then least `load` first. Otherwise a message in kube-scheduler's
 * words ("0/2 nodes are available: …"). `self` is the UID of the workload being placed, so its own
 * earlier (or assumed) placement does not count against it.
 */
export function pickNode(
  nodes: readonly Node[],
  placement: Placement,
  load: ReadonlyMap<string, number>,
  exclude: ReadonlySet<string> = new Set(),
  placed: readonly PlacedWorkload[] = [],
  self?: string,
): ScheduleResult {
  if (nodes.length === 0) return { node: undefined, message: "no nodes available to schedule pods" };
  const interPod = interPodAffinity(placement, placed, nodes, self);
  let notReady = 0;
  let cordoned = 0;
  let mismatched = 0;
  let excluded = 0;
  const refused = new Map<InterPodReason, number>();
  const feasible: Node[] = [];
  for (const node of nodes) {
    const name = node.metadata.name ?? "";
    if (exclude.has(name)) excluded++;
    else if (!nodeIsReady(node)) notReady++;
    else if (!nodeIsSchedulable(node)) cordoned++;
    else if (!placementAllows(placement, node)) mismatched++;
    else {
      const reason = interPod.refuses(node);
      if (reason === undefined) feasible.push(node);
      else refused.set(reason, (refused.get(reason) ?? 0) + 1);
    }
  }
  const best = feasible
    .map((node) => ({ node, name: node.metadata.name ?? "", score: interPod.score(node), load: load.get(node.metadata.name ?? "") ?? 0 }))
    .sort((a, b) => b.score - a.score || a.load - b.load || a.name.localeCompare(b.name))[0];
  if (best !== undefined) return { node: best.node };
  const reasons = [
    mismatched > 0 ? `${mismatched} node(s) didn't match Pod's node affinity/selector` : "",
    ...Object.values(InterPodReason).map((reason) => ((refused.get(reason) ?? 0) > 0 ? `${refused.get(reason) ?? 0} ${reason}` : "")),
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

/**
 * Placements decided but not yet seen in the cache, as kube-scheduler's "assumed pods": the next
 * decision, made before the watch brings the first one back, must already count it.
 */
export class AssumedPlacements {
  private readonly byKey = new Map<string, { uid: string; nodeName: string }>();

  assume(key: string, uid: string, nodeName: string): void {
    this.byKey.set(key, { uid, nodeName });
  }

  /** The node the object reports, else the one assumed for this very object (same UID). */
  nodeOf(key: string, uid: string, reported: string | null | undefined): string | undefined {
    if (reported !== undefined && reported !== null && reported !== "") return reported;
    const assumed = this.byKey.get(key);
    return assumed?.uid === uid ? assumed.nodeName : undefined;
  }

  /** Once the cache reports the placement, or the object is gone. */
  forget(key: string): void {
    this.byKey.delete(key);
  }
}
