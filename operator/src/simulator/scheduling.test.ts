import { describe, expect, it } from "vitest";
import { node } from "./fixtures.js";
import { loadByNode, pickNode, placementAllows, requirementMatches, type Placement } from "./scheduling.js";

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
