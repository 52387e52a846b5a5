import { describe, expect, it } from "vitest";
import { dataVolume, pvc, T0, vm, vmi } from "./fixtures.js";
import {
  dataVolumesReady,
  decideRun,
  desiredDataVolume,
  desiredVmi,
  hotplugSync,
  printableStatus,
  runStrategyOf,
  vmStatus,
  type RunDecisionInput,
} from "./vm-state.js";
import type { DV, PersistentVolumeClaim, VMI } from "./types.js";

describe("decideRun", () => {
  const base: RunDecisionInput = { strategy: "Always", vmDeleting: false, vmi: undefined, request: undefined, dataVolumesReady: true };
  const live = (phase: string, deleting = false) => ({ uid: "u1", phase, deleting });

  it.each<[string, Partial<RunDecisionInput>, string, boolean]>([
    ["Always without a VMI starts one", {}, "createVmi", false],
    ["Always waits for its DataVolumes", { dataVolumesReady: false }, "none", false],
    ["Always keeps a running VMI", { vmi: live("Running") }, "none", false],
    ["Always replaces a finished VMI", { vmi: live("Succeeded") }, "deleteVmi", false],
    ["Always waits while the old VMI goes", { vmi: live("Succeeded", true) }, "none", false],
    ["RerunOnFailure restarts a failed VMI", { strategy: "RerunOnFailure", vmi: live("Failed") }, "deleteVmi", false],
    ["RerunOnFailure leaves a succeeded VMI", { strategy: "RerunOnFailure", vmi: live("Succeeded") }, "none", false],
    ["Halted deletes a running VMI", { strategy: "Halted", vmi: live("Running") }, "deleteVmi", false],
    ["Halted without a VMI does nothing", { strategy: "Halted" }, "none", false],
    ["Manual does not start on its own", { strategy: "Manual" }, "none", false],
    ["Manual starts on a Start request", { strategy: "Manual", request: { action: "Start" } }, "createVmi", true],
    ["a Start request waits for DataVolumes", { strategy: "Manual", request: { action: "Start" }, dataVolumesReady: false }, "none", false],
    ["a Stop request deletes the VMI it names", { request: { action: "Stop", uid: "u1" }, vmi: live("Running") }, "deleteVmi", true],
    ["a Stop request for another VMI is moot", { request: { action: "Stop", uid: "other" }, vmi: live("Running") }, "none", true],
    ["Once starts once", { strategy: "Once" }, "createVmi", false],
    ["Once halts after the run", { strategy: "Once", vmi: live("Succeeded") }, "halt", false],
    ["a deleted VM deletes its VMI", { vmDeleting: true, vmi: live("Running") }, "deleteVmi", false],
    ["a deleted VM waits for the VMI to go", { vmDeleting: true, vmi: live("Running", true) }, "none", false],
  ])("%s", (_name, overrides, action, requestDone) => {
    const decision = decideRun({ ...base, ...overrides });
    expect(decision.action.kind).toBe(action);
    expect(decision.requestDone).toBe(requestDone);
  });
});

describe("runStrategyOf", () => {
  it("maps the deprecated running field", () => {
    const stopped = vm();
    stopped.spec.runStrategy = undefined;
    expect(runStrategyOf(stopped)).toBe("Halted");
    stopped.spec.running = true;
    expect(runStrategyOf(stopped)).toBe("Always");
  });
});

describe("printableStatus", () => {
  const none = new Map<string, DV>();
  const noClaims = new Map<string, PersistentVolumeClaim>();
  const dvs = (dv: DV) => new Map([[dv.metadata.name ?? "", dv]]);
  const bound = [{ type: "Bound", status: "True" }];

  it.each<[string, Parameters<typeof printableStatus>[0], string]>([
    ["halted without VMI", { vm: vm({ runStrategy: "Halted" }), vmi: undefined, dataVolumes: none, claims: noClaims }, "Stopped"],
    ["always without VMI", { vm: vm(), vmi: undefined, dataVolumes: none, claims: noClaims }, "Starting"],
    ["importing", { vm: vm(), vmi: undefined, dataVolumes: dvs(dataVolume("web-root", "ImportInProgress", bound)), claims: noClaims }, "Provisioning"],
    ["import not bound yet", { vm: vm(), vmi: undefined, dataVolumes: dvs(dataVolume("web-root", "Pending")), claims: noClaims }, "Starting"],
    ["claim pending", { vm: vm(), vmi: undefined, dataVolumes: none, claims: new Map([["web-root", pvc("web-root", "Pending")]]) }, "WaitingForVolumeBinding"],
    ["import failed", { vm: vm(), vmi: undefined, dataVolumes: dvs(dataVolume("web-root", "Failed", bound)), claims: noClaims }, "DataVolumeError"],
    [
      "importer erroring",
      { vm: vm(), vmi: undefined, dataVolumes: dvs(dataVolume("web-root", "ImportInProgress", [...bound, { type: "Running", status: "False", reason: "Error" }])), claims: noClaims },
      "DataVolumeError",
    ],
    ["scheduling", { vm: vm(), vmi: vmi("Scheduling"), dataVolumes: none, claims: noClaims }, "Starting"],
    [
      "unschedulable",
      { vm: vm(), vmi: vmi("Scheduling", { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] }), dataVolumes: none, claims: noClaims },
      "ErrorUnschedulable",
    ],
    [
      "missing PVC",
      { vm: vm(), vmi: vmi("Pending", { conditions: [{ type: "Synchronized", status: "False", reason: "FailedPvcNotFound" }] }), dataVolumes: none, claims: noClaims },
      "ErrorPvcNotFound",
    ],
    ["running", { vm: vm(), vmi: vmi("Running"), dataVolumes: none, claims: noClaims }, "Running"],
    ["paused", { vm: vm(), vmi: vmi("Running", { conditions: [{ type: "Paused", status: "True" }] }), dataVolumes: none, claims: noClaims }, "Paused"],
    [
      "migrating",
      { vm: vm(), vmi: vmi("Running", { status: { migrationState: { startTimestamp: "2026-01-01T00:00:00Z" } } }), dataVolumes: none, claims: noClaims },
      "Migrating",
    ],
    [
      "migrated",
      { vm: vm(), vmi: vmi("Running", { status: { migrationState: { startTimestamp: "2026-01-01T00:00:00Z", endTimestamp: "2026-01-01T00:00:01Z" } } }), dataVolumes: none, claims: noClaims },
      "Running",
    ],
    ["halted, guest shutting down", { vm: vm({ runStrategy: "Halted" }), vmi: vmi("Running"), dataVolumes: none, claims: noClaims }, "Stopping"],
    ["VMI deleted, guest shutting down", { vm: vm(), vmi: vmi("Running", { deleting: true }), dataVolumes: none, claims: noClaims }, "Stopping"],
    ["halted, guest stopped", { vm: vm({ runStrategy: "Halted" }), vmi: vmi("Succeeded", { deleting: true }), dataVolumes: none, claims: noClaims }, "Stopped"],
    ["VM being deleted", { vm: vm({ deleting: true }), vmi: vmi("Running"), dataVolumes: none, claims: noClaims }, "Terminating"],
  ])("%s → %s", (_name, input, expected) => {
    expect(printableStatus(input)).toBe(expected);
  });
});

describe("vmStatus", () => {
  it("says VMINotExists without a VMI and keeps the transition time while nothing changes", () => {
    const first = vmStatus({ vm: vm({ runStrategy: "Halted" }), vmi: undefined, dataVolumes: new Map(), claims: new Map() }, T0);
    expect(first).toMatchObject({ printableStatus: "Stopped", created: false, ready: false });
    expect(first.conditions).toEqual([
      { type: "Ready", status: "False", reason: "VMINotExists", message: "VMI does not exist", lastProbeTime: null, lastTransitionTime: "2026-01-01T00:00:00Z" },
    ]);
    const later = vmStatus({ vm: vm({ runStrategy: "Halted", status: first }), vmi: undefined, dataVolumes: new Map(), claims: new Map() }, T0 + 60_000);
    expect(later.conditions).toEqual(first.conditions);
  });

  it("copies the VMI's conditions and is ready when the VMI is", () => {
    const running = vmi("Running", {
      conditions: [
        { type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:00:05Z", lastProbeTime: null },
        { type: "LiveMigratable", status: "False", reason: "DisksNotLiveMigratable" },
      ],
    });
    const status = vmStatus({ vm: vm(), vmi: running, dataVolumes: new Map(), claims: new Map() }, T0);
    expect(status).toMatchObject({ printableStatus: "Running", created: true, ready: true });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "True", undefined],
      ["LiveMigratable", "False", "DisksNotLiveMigratable"],
    ]);
  });
});

describe("desiredVmi and desiredDataVolume", () => {
  it("stamps the VMI out of the template, owned by the VM, with the stop finalizer", () => {
    const result = desiredVmi(vm());
    expect(result.metadata).toMatchObject({
      name: "web",
      namespace: "tenant",
      labels: { app: "web" },
      annotations: { "kubevirt.io/vm-generation": "3" },
      finalizers: ["foregroundDeleteVirtualMachine"],
      ownerReferences: [{ kind: "VirtualMachine", name: "web", uid: "vm-uid", controller: true }],
    });
    expect(result.spec.volumes).toEqual([{ name: "root", dataVolume: { name: "web-root" } }]);
  });

  it("creates template DataVolumes owned by the VM", () => {
    const dv = desiredDataVolume(vm(), { metadata: { name: "web-root", labels: { a: "b" } }, spec: { source: { blank: {} }, storage: {} } });
    expect(dv.metadata).toMatchObject({ name: "web-root", namespace: "tenant", labels: { a: "b" }, ownerReferences: [{ kind: "VirtualMachine", name: "web" }] });
    expect(dv.spec.source).toEqual({ blank: {} });
  });

  it("counts Succeeded and WaitForFirstConsumer DataVolumes as ready", () => {
    const ready = new Map([
      ["a", dataVolume("a", "Succeeded")],
      ["b", dataVolume("b", "WaitForFirstConsumer")],
    ]);
    expect(dataVolumesReady(["a", "b"], ready)).toBe(true);
    expect(dataVolumesReady(["a", "c"], ready)).toBe(false);
  });
});

describe("hotplugSync", () => {
  const template = (hotplug: boolean): NonNullable<ReturnType<typeof vm>["spec"]["template"]["spec"]> => ({
    domain: {
      devices: {
        disks: [{ name: "root", disk: { bus: "virtio" } }, ...(hotplug ? [{ name: "data", disk: { bus: "scsi" } }] : [])],
      },
    },
    volumes: [
      { name: "root", dataVolume: { name: "web-root" } },
      ...(hotplug ? [{ name: "data", persistentVolumeClaim: { claimName: "data", hotpluggable: true } }] : []),
    ],
  });
  const spec = (t: ReturnType<typeof template>): VMI["spec"] => structuredClone(t);

  it("adds a hotpluggable volume and its disk to the running VMI", () => {
    const result = hotplugSync(template(true), spec(template(false)));
    expect(result?.volumes.map((v) => v.name)).toEqual(["root", "data"]);
    expect(result?.disks).toEqual([
      { name: "root", disk: { bus: "virtio" } },
      { name: "data", disk: { bus: "scsi" } },
    ]);
  });

  it("removes an unplugged one", () => {
    const result = hotplugSync(template(false), spec(template(true)));
    expect(result?.volumes.map((v) => v.name)).toEqual(["root"]);
    expect(result?.disks.map((d) => d.name)).toEqual(["root"]);
  });

  it("is quiet when they agree, and ignores non-hotplug changes (those need a restart)", () => {
    expect(hotplugSync(template(true), spec(template(true)))).toBeUndefined();
    const changed = template(false);
    changed.volumes?.push({ name: "extra", persistentVolumeClaim: { claimName: "extra" } });
    expect(hotplugSync(changed, spec(template(false)))).toBeUndefined();
  });
});
