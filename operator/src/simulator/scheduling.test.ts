import { describe, expect, it } from "vitest";
import { node } from "./fixtures.js";
import {
  AssumedPlacements,
  labelSelectorMatches,
  loadByNode,
  pickNode,
  placementAllows,
  requirementMatches,
  termSelects,
  turnedAway,
  type Affinity,
  type PlacedWorkload,
  type Placement,
} from "./scheduling.js";

const nodes = [node("n1", { zone: "nova" }), node("n2", { zone: "az2" }), node("n3", { zone: "az2", labels: { gpu: "2" } })];
const none = new Map<string, number>();

describe("requirementMatches", () => {
  it.each<[string, string[], string | undefined, boolean]>([
    ["In", ["a", "b"], "b", true],
    ["In", ["a"], undefined, false],
    ["NotIn", ["a"], "b", true],
    ["NotIn", ["a"], undefined, true],
    ["Exists", [], "x", true],
    ["DoesNotExist", [], "x", false],
    ["Gt", ["1"], "2", true],
    ["Lt", ["1"], "2", false],
    ["Gt", ["x"], "2", false],
    ["Bogus", [], "x", false],
  ])("%s %j on %s → %s", (operator, values, value, expected) => {
    expect(requirementMatches({ key: "k", operator, values }, value)).toBe(expected);
  });
});

describe("placementAllows", () => {
  const zone = (op: string, values: string[]): Placement => ({
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: op, values }] }] },
      },
    },
  });

  it.each<[string, Placement, string[]]>([
    ["no constraints", {}, ["n1", "n2", "n3"]],
    ["nodeSelector on zone", { nodeSelector: { "topology.kubernetes.io/zone": "az2" } }, ["n2", "n3"]],
    ["affinity In", zone("In", ["nova"]), ["n1"]],
    ["affinity NotIn", zone("NotIn", ["nova"]), ["n2", "n3"]],
    [
      "terms are ORed",
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "gpu", operator: "Exists" }] }, { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }],
            },
          },
        },
      },
      ["n1", "n3"],
    ],
    ["selector and affinity both apply", { ...zone("In", ["az2"]), nodeSelector: { gpu: "2" } }, ["n3"]],
    [
      "an empty term matches nothing",
      { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } },
      [],
    ],
  ])("%s", (_name, placement, expected) => {
    expect(nodes.filter((n) => placementAllows(placement, n)).map((n) => n.metadata.name)).toEqual(expected);
  });
});

describe("pickNode", () => {
  it("prefers the least loaded feasible node, by name on ties", () => {
    expect(pickNode(nodes, {}, none).node?.metadata.name).toBe("n1");
    expect(pickNode(nodes, {}, new Map([["n1", 2], ["n2", 1]])).node?.metadata.name).toBe("n3");
  });

  it("skips excluded, cordoned and not-ready nodes", () => {
    const cluster = [node("a", { unschedulable: true }), node("b", { ready: false }), node("c")];
    expect(pickNode(cluster, {}, none).node?.metadata.name).toBe("c");
    expect(pickNode(cluster, {}, none, new Set(["c"]))).toEqual({
      node: undefined,
      message:
        "0/3 nodes are available: 1 node(s) were unschedulable, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) are the migration source.",
    });
  });

  it("explains a selector nobody matches, like kube-scheduler", () => {
    expect(pickNode(nodes, { nodeSelector: { "topology.kubernetes.io/zone": "mars" } }, none)).toEqual({
      node: undefined,
      message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    });
    expect(pickNode([], {}, none)).toEqual({ node: undefined, message: "no nodes available to schedule pods" });
  });

  it("counts load per node name", () => {
    expect([...loadByNode(["a", undefined, "b", "a", ""])]).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });
});

const GROUP = "altostack.io/server-group";
const HOST = "kubernetes.io/hostname";
const ZONE = "topology.kubernetes.io/zone";

function groupTerm(topologyKey = HOST, extra: { namespaces?: string[]; namespaceSelector?: object } = {}) {
  return { labelSelector: { matchLabels: { [GROUP]: "db" } }, topologyKey, ...extra };
}

/** A server-group member as the operator emits it: the group label and a rule on its own group. */
function member(rule: "required" | "preferred", kind: "podAffinity" | "podAntiAffinity", topologyKey = HOST): Placement {
  const term = groupTerm(topologyKey);
  const rules =
    rule === "required"
      ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
      : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
  return { namespace: "tenant", labels: { [GROUP]: "db" }, affinity: { [kind]: rules } };
}

let placedCount = 0;
function placedOn(nodeName: string, opts: { namespace?: string; labels?: Record<string, string>; affinity?: Affinity; uid?: string } = {}): PlacedWorkload {
  return {
    uid: opts.uid ?? `uid-${nodeName}-${++placedCount}`,
    namespace: opts.namespace ?? "tenant",
    labels: opts.labels ?? { [GROUP]: "db" },
    nodeName,
    ...(opts.affinity === undefined ? {} : { affinity: opts.affinity }),
  };
}

/** The chosen node's name, or "refused: <message>". */
function pick(placement: Placement, placed: PlacedWorkload[], load: ReadonlyMap<string, number> = none, self?: string): string {
  const result = pickNode(nodes, placement, load, undefined, placed, self);
  return result.node === undefined ? `refused: ${result.message}` : (result.node.metadata.name ?? "");
}

describe("label selectors and affinity terms", () => {
  it.each<[string, Parameters<typeof labelSelectorMatches>[0], Record<string, string>, boolean]>([
    ["missing selector matches nothing", undefined, { a: "1" }, false],
    ["empty selector matches everything", {}, {}, true],
    ["matchLabels", { matchLabels: { a: "1" } }, { a: "1", b: "2" }, true],
    ["matchLabels differ", { matchLabels: { a: "1" } }, { a: "2" }, false],
    ["matchExpressions In", { matchExpressions: [{ key: "a", operator: "In", values: ["1", "2"] }] }, { a: "2" }, true],
    ["both are ANDed", { matchLabels: { a: "1" }, matchExpressions: [{ key: "b", operator: "DoesNotExist" }] }, { a: "1", b: "x" }, false],
  ])("%s", (_name, selector, labels, expected) => {
    expect(labelSelectorMatches(selector, labels)).toBe(expected);
  });

  it.each<[string, object, string, boolean]>([
    ["own namespace by default", {}, "tenant", true],
    ["not another namespace by default", {}, "other", false],
    ["a namespaces list replaces the default", { namespaces: ["other"] }, "tenant", false],
    ["a namespaces list names others", { namespaces: ["other"] }, "other", true],
    ["an empty namespaceSelector means every namespace", { namespaceSelector: {} }, "other", true],
    ["a labelled namespaceSelector is not simulated (own namespace only)", { namespaceSelector: { matchLabels: { team: "x" } } }, "other", false],
  ])("%s", (_name, extra, targetNamespace, expected) => {
    expect(termSelects(groupTerm(HOST, extra), "tenant", { namespace: targetNamespace, labels: { [GROUP]: "db" } })).toBe(expected);
  });
});

describe("pickNode with inter-pod affinity", () => {
  // nodes: n1 (nova), n2 (az2), n3 (az2)
  it.each<[string, Placement, PlacedWorkload[], string]>([
    ["anti-affinity: avoids hosts running a member", member("required", "podAntiAffinity"), [placedOn("n1")], "n2"],
    ["anti-affinity: members elsewhere in other namespaces do not count", member("required", "podAntiAffinity"), [placedOn("n1", { namespace: "other" })], "n1"],
    ["anti-affinity: other groups do not count", member("required", "podAntiAffinity"), [placedOn("n1", { labels: { [GROUP]: "web" } })], "n1"],
    [
      "anti-affinity: every host taken → refused in kube-scheduler's words",
      member("required", "podAntiAffinity"),
      [placedOn("n1"), placedOn("n2"), placedOn("n3")],
      "refused: 0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
    ],
    ["anti-affinity on the zone: a member in az2 rules out both az2 nodes", member("required", "podAntiAffinity", ZONE), [placedOn("n3")], "n1"],
    ["anti-affinity: its own earlier placement does not count", member("required", "podAntiAffinity"), [placedOn("n1", { uid: "me" })], "n1"],
    ["affinity: the first of its group goes anywhere (least loaded)", member("required", "podAffinity"), [], "n1"],
    ["affinity: joins the host of the group", member("required", "podAffinity"), [placedOn("n2")], "n2"],
    ["affinity on the zone: any node of the group's zone", member("required", "podAffinity", ZONE), [placedOn("n3")], "n2"],
    [
      "affinity: the first pod must match its own terms to go anywhere",
      { ...member("required", "podAffinity"), labels: {} },
      [],
      "refused: 0/3 nodes are available: 3 node(s) didn't match pod affinity rules.",
    ],
    [
      "existing pods' anti-affinity keeps a newcomer away",
      { namespace: "tenant", labels: { app: "web" } },
      [placedOn("n1", { labels: {}, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, topologyKey: HOST }] } } })],
      "n2",
    ],
    ["soft anti-affinity: spreads", member("preferred", "podAntiAffinity"), [placedOn("n1"), placedOn("n2")], "n3"],
    ["soft anti-affinity: never refuses, takes the fewest members", member("preferred", "podAntiAffinity"), [placedOn("n1"), placedOn("n1"), placedOn("n2"), placedOn("n3"), placedOn("n3")], "n2"],
    ["soft affinity: joins the group", member("preferred", "podAffinity"), [placedOn("n3")], "n3"],
  ])("%s", (_name, placement, placed, expected) => {
    expect(pick(placement, placed, none, "me")).toBe(expected);
  });

  it("puts the preferred-affinity score ahead of the least-loaded tie-break", () => {
    expect(pick(member("preferred", "podAffinity"), [placedOn("n3")], new Map([["n3", 5]]))).toBe("n3");
    expect(pick({}, [placedOn("n3")], new Map([["n3", 5]]))).toBe("n1");
  });

  it("lists every reason a node was refused", () => {
    const cordoned = [node("a", { unschedulable: true }), node("b"), node("c", { labels: { gpu: "1" } })];
    const result = pickNode(cordoned, { ...member("required", "podAffinity"), nodeSelector: { gpu: "1" } }, none, undefined, [placedOn("b")]);
    expect(result).toEqual({
      node: undefined,
      message: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) didn't match pod affinity rules, 1 node(s) were unschedulable.",
    });
  });

  it("respects anti-affinity when choosing a migration target (source excluded)", () => {
    const result = pickNode(nodes, member("required", "podAntiAffinity"), none, new Set(["n1"]), [placedOn("n1", { uid: "me" }), placedOn("n2")], "me");
    expect(result.node?.metadata.name).toBe("n3");
    const full = pickNode(nodes, member("required", "podAntiAffinity"), none, new Set(["n1"]), [placedOn("n1", { uid: "me" }), placedOn("n2"), placedOn("n3")], "me");
    expect(full).toEqual({
      node: undefined,
      message: "0/3 nodes are available: 2 node(s) didn't match pod anti-affinity rules, 1 node(s) are the migration source.",
    });
  });
});

describe("AssumedPlacements", () => {
  it("answers for the same object until the cache reports its node", () => {
    const assumed = new AssumedPlacements();
    assumed.assume("vmi:t/a", "uid-1", "n2");
    expect(assumed.nodeOf("vmi:t/a", "uid-1", undefined)).toBe("n2");
    expect(assumed.nodeOf("vmi:t/a", "uid-2", undefined)).toBeUndefined(); // a namesake created since
    expect(assumed.nodeOf("vmi:t/a", "uid-1", "n1")).toBe("n1"); // what the object reports wins
    assumed.forget("vmi:t/a");
    expect(assumed.nodeOf("vmi:t/a", "uid-1", "")).toBeUndefined();
  });
});

describe("turnedAway", () => {
  it.each<[string, { type: string; status: string }[] | undefined, boolean]>([
    ["no conditions", undefined, false],
    ["PodScheduled False", [{ type: "Ready", status: "False" }, { type: "PodScheduled", status: "False" }], true],
    ["PodScheduled True", [{ type: "PodScheduled", status: "True" }], false],
  ])("%s → %s", (_name, conditions, expected) => {
    expect(turnedAway(conditions)).toBe(expected);
  });
});
