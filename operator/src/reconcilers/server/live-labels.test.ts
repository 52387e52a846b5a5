import { describe, expect, it } from "vitest";
import { portSecurityLabel, securityGroupLabel } from "../securitygroup/labels.js";
import { launcherPodsToLabel, securityLabelPatch, VIRT_LAUNCHER_CREATED_BY, type LabelPatch } from "./live-labels.js";

const web = securityGroupLabel("web", "ns/front");
const db = securityGroupLabel("db", "ns/front");
const frontSecured = portSecurityLabel("ns/front");
const kubevirt = { "kubevirt.io/domain": "vm-a", "altostack.io/server": "a", "vm.kubevirt.io/name": "vm-a" };

describe("securityLabelPatch", () => {
  const cases: [string, Record<string, string> | undefined, Record<string, string>, LabelPatch | undefined][] = [
    ["labels already as wanted: nothing to write", { ...kubevirt, [web]: "true", [frontSecured]: "enabled" }, { [web]: "true", [frontSecured]: "enabled" }, undefined],
    ["a group moved: the new one added, the old one removed with null", { ...kubevirt, [web]: "true", [frontSecured]: "enabled" }, { [db]: "true", [frontSecured]: "enabled" }, { [db]: "true", [web]: null }],
    ["a VMI without labels gets all wanted ones", undefined, { [web]: "true", [frontSecured]: "enabled" }, { [web]: "true", [frontSecured]: "enabled" }],
    ["a changed value is replaced", { [frontSecured]: "disabled" }, { [frontSecured]: "enabled" }, { [frontSecured]: "enabled" }],
    ["port security switched off: every security label goes, nothing else", { ...kubevirt, [web]: "true", [frontSecured]: "enabled" }, {}, { [web]: null, [frontSecured]: null }],
    [
      "labels of the earlier per-group format are removed",
      { ...kubevirt, "altostack.io/sg-web": "true", "altostack.io/port-security": "enabled" },
      { [web]: "true", [frontSecured]: "enabled" },
      { [web]: "true", [frontSecured]: "enabled", "altostack.io/sg-web": null, "altostack.io/port-security": null },
    ],
    ["other labels (KubeVirt's, the user's, other altostack ones) are never touched", { ...kubevirt, app: "x", "altostack.io/project": "p" }, {}, undefined],
    ["a wanted label that is not a security label is not written", { app: "x" }, { app: "y", [web]: "true" }, { [web]: "true" }],
  ];
  it.each(cases)("%s", (_name, current, wanted, patch) => {
    expect(securityLabelPatch(current, wanted)).toEqual(patch);
  });

  it("applying the patch gives exactly the wanted security labels beside the untouched others", () => {
    const current = { ...kubevirt, app: "x", [web]: "true", "altostack.io/sg-old": "true" };
    const wanted = { [db]: "true", [frontSecured]: "enabled" };
    // What the apiserver does with a merge patch of labels: null removes, a string sets.
    const merged: Record<string, string | null> = { ...current, ...securityLabelPatch(current, wanted) };
    const patched = Object.fromEntries(Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null));
    expect(patched).toEqual({ ...kubevirt, app: "x", ...wanted });
    expect(securityLabelPatch(patched, wanted)).toBeUndefined();
  });
});

describe("launcherPodsToLabel", () => {
  const pod = (name: string, over: { namespace?: string; uid?: string; deleting?: boolean; phase?: string } = {}) => ({
    name,
    metadata: {
      namespace: over.namespace ?? "ns",
      labels: { [VIRT_LAUNCHER_CREATED_BY]: over.uid ?? "vmi-1" },
      ...(over.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    status: { phase: over.phase ?? "Running" },
  });
  it("keeps the VMI's running pods (both during a migration) and drops other namespaces, other VMIs, leaving and finished pods", () => {
    const pods = [
      pod("source"),
      pod("target", { phase: "Pending" }),
      pod("elsewhere", { namespace: "other" }),
      pod("other-vmi", { uid: "vmi-2" }),
      pod("leaving", { deleting: true }),
      pod("migrated-away", { phase: "Succeeded" }),
      pod("crashed", { phase: "Failed" }),
    ];
    expect(launcherPodsToLabel(pods, { namespace: "ns", uid: "vmi-1" }).map((p) => p.name)).toEqual(["source", "target"]);
  });
});
