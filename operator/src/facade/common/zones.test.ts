import { describe, expect, it } from "vitest";
import type { KubeObject, ResourceType } from "../../kube/index.js";
import type { FacadeStore } from "./store.js";
import { DEFAULT_ZONE, ZONE_LABEL, serverZone } from "./zones.js";

const nodes: Record<string, KubeObject> = {
  "node-a": { metadata: { name: "node-a", labels: { [ZONE_LABEL]: "az1" } } },
  "node-bare": { metadata: { name: "node-bare" } },
};
const lookup = (_rt: ResourceType, key: string): KubeObject | undefined => nodes[key];
const store = { get: lookup as FacadeStore["get"] };

describe("serverZone (Nova's OS-EXT-AZ:availability_zone)", () => {
  it.each([
    ["placed on a node of a zone: that zone, whatever was asked", "node-a", undefined, "az1"],
    ["placed on a node of a zone, having asked for it", "node-a", "az1", "az1"],
    ["not placed yet: the zone asked for", undefined, "az2", "az2"],
    ["not placed, nothing asked: the default zone", undefined, undefined, DEFAULT_ZONE],
    ["placed on a node without a zone label: the zone asked for", "node-bare", "az2", "az2"],
    ["placed on a node that is gone: the default", "node-gone", undefined, DEFAULT_ZONE],
  ])("%s", (_why, host, requested, expected) => {
    expect(serverZone(store, host, requested)).toBe(expected);
  });
});
