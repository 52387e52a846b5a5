import { describe, expect, it } from "vitest";
import {
  cloneSourceOf,
  dataSourceVerdict,
  dataVolumeProgress,
  dataVolumeStatus,
  dataVolumeVerdicts,
  desiredClaim,
  injectedFailure,
  nextDataVolumeStep,
  sourceKindOf,
  type DvStepInput,
} from "./datavolume-state.js";
import { dataVolume, delays, pvc, T0 } from "./fixtures.js";
import type { DS, DV } from "./types.js";

const failures = { invalidHostImports: true, annotation: true };

function withSource(spec: Partial<DV["spec"]>, annotations?: Record<string, string>): DV {
  const dv = dataVolume("disk", undefined);
  return { ...dv, metadata: { ...dv.metadata, ...(annotations === undefined ? {} : { annotations }) }, spec: { storage: dv.spec.storage, ...spec } };
}

describe("sources", () => {
  it.each<[string, Partial<DV["spec"]>, string]>([
    ["http", { source: { http: { url: "https://x/y" } } }, "import"],
    ["registry", { source: { registry: { url: "docker://quay.io/x" } } }, "import"],
    ["pvc", { source: { pvc: { name: "a", namespace: "b" } } }, "clone"],
    ["snapshot", { source: { snapshot: { name: "a", namespace: "b" } } }, "clone"],
    ["sourceRef", { sourceRef: { kind: "DataSource", name: "fedora" } }, "clone"],
    ["blank", { source: { blank: {} } }, "blank"],
    ["upload", { source: { upload: {} } }, "upload"],
    ["nothing", {}, "none"],
  ])("%s is a %s", (_name, spec, kind) => {
    expect(sourceKindOf(withSource(spec).spec)).toBe(kind);
  });

  it("resolves clone sources, defaulting the namespace", () => {
    expect(cloneSourceOf(withSource({ sourceRef: { kind: "DataSource", name: "fedora" } }))).toEqual({ kind: "dataSource", namespace: "tenant", name: "fedora" });
    expect(cloneSourceOf(withSource({ source: { pvc: { name: "img", namespace: "images" } } }))).toEqual({ kind: "pvc", namespace: "images", name: "img" });
    expect(cloneSourceOf(withSource({ source: { http: { url: "https://x" } } }))).toBeUndefined();
  });
});

describe("injectedFailure", () => {
  it("fails http imports from .invalid hosts like a DNS error", () => {
    const message = injectedFailure(withSource({ source: { http: { url: "http://images.example.invalid/a.img" } } }), failures);
    expect(message).toBe(
      'Unable to connect to http data source: HTTP request errored: Get "http://images.example.invalid/a.img": dial tcp: lookup images.example.invalid: no such host',
    );
  });

  it("fails registry imports from .invalid hosts", () => {
    expect(injectedFailure(withSource({ source: { registry: { url: "docker://registry.invalid/img:1" } } }), failures)).toContain("no such host");
  });

  it("fails on the annotation", () => {
    expect(injectedFailure(withSource({ source: { blank: {} } }, { "sim.altostack.io/fail": "true" }), failures)).toContain("simulated failure");
  });

  it("honours the switches and leaves good sources alone", () => {
    expect(injectedFailure(withSource({ source: { http: { url: "http://a.invalid/x" } } }), { ...failures, invalidHostImports: false })).toBeUndefined();
    expect(injectedFailure(withSource({}, { "sim.altostack.io/fail": "true" }), { ...failures, annotation: false })).toBeUndefined();
    expect(injectedFailure(withSource({ source: { http: { url: "https://images.example.org/x" } } }), failures)).toBeUndefined();
  });
});

describe("dataVolumeProgress", () => {
  it.each([
    [0, "0.00%"],
    [124, "0.00%"],
    [125, "25.00%"],
    [499, "75.00%"],
    [600, "75.00%"],
  ])("after %d of 500 ms in 4 updates: %s", (elapsed, text) => {
    expect(dataVolumeProgress(elapsed, 500, 4)).toBe(text);
  });
});

describe("nextDataVolumeStep", () => {
  const base: DvStepInput = {
    kind: "import",
    phase: "Pending",
    pvc: "bound",
    sourceProblem: undefined,
    failure: undefined,
    enteredAt: T0,
    now: T0,
    delays: delays({ dataVolumeSchedule: 100, importDuration: 400, cloneDuration: 200 }),
    progressUpdates: 4,
  };

  it.each<[string, Partial<DvStepInput>, object]>([
    ["waits for its PVC", { pvc: "pending" }, { phase: "Pending", progress: "N/A" }],
    ["import scheduled once bound", {}, { phase: "ImportScheduled" }],
    ["clone waits for its source", { kind: "clone", sourceProblem: "source PVC x not found" }, { phase: "Pending" }],
    ["clone scheduled", { kind: "clone" }, { phase: "CloneScheduled" }],
    ["upload scheduled", { kind: "upload" }, { phase: "UploadScheduled" }],
    ["scheduled waits", { phase: "ImportScheduled", now: T0 + 30 }, { phase: "ImportScheduled", waitMs: 70 }],
    ["import starts at 0%", { phase: "ImportScheduled", now: T0 + 100 }, { phase: "ImportInProgress", progress: "0.00%" }],
    ["blank is done after scheduling", { kind: "blank", phase: "ImportScheduled", now: T0 + 100 }, { phase: "Succeeded", progress: "100.0%" }],
    ["upload becomes ready and waits", { kind: "upload", phase: "UploadScheduled", now: T0 + 100 }, { phase: "UploadReady" }],
    ["upload waits for its bytes", { kind: "upload", phase: "UploadReady", now: T0 + 10_000 }, { phase: "UploadReady", progress: "N/A" }],
    ["upload done once the proxy wrote the bytes", { kind: "upload", phase: "UploadReady", uploadComplete: true }, { phase: "Succeeded", progress: "100.0%" }],
    ["import ticks", { phase: "ImportInProgress", now: T0 + 150 }, { phase: "ImportInProgress", progress: "25.00%", waitMs: 50 }],
    ["import completes", { phase: "ImportInProgress", now: T0 + 400 }, { phase: "Succeeded", progress: "100.0%" }],
    ["clone completes on its own duration", { kind: "clone", phase: "CloneInProgress", now: T0 + 200 }, { phase: "Succeeded" }],
    ["a failing import fails after its first attempt", { phase: "ImportInProgress", failure: "boom", now: T0 + 100 }, { phase: "Failed" }],
    ["a failing import is still trying", { phase: "ImportInProgress", failure: "boom", now: T0 + 10 }, { phase: "ImportInProgress", waitMs: 90 }],
    ["Failed stays", { phase: "Failed" }, { phase: "Failed" }],
  ])("%s", (_name, overrides, expected) => {
    expect(nextDataVolumeStep({ ...base, ...overrides })).toMatchObject(expected);
  });
});

describe("conditions and status", () => {
  const verdicts = (phase: string, opts: Partial<Parameters<typeof dataVolumeVerdicts>[0]> = {}) =>
    dataVolumeVerdicts({ phase, kind: "import", claimName: "disk", pvc: "bound", failure: undefined, sourceProblem: undefined, ...opts }).map(
      (v) => `${v.type}=${v.status}:${v.reason ?? ""}`,
    );

  it.each<[string, Partial<Parameters<typeof dataVolumeVerdicts>[0]>, string[]]>([
    ["Pending", { pvc: "missing" }, ["Bound=False:NotFound", "Ready=False:", "Running=False:"]],
    ["Pending", { pvc: "pending" }, ["Bound=False:Pending", "Ready=False:", "Running=False:"]],
    ["ImportInProgress", {}, ["Bound=True:Bound", "Ready=False:TransferRunning", "Running=True:Pod is running"]],
    ["Succeeded", {}, ["Bound=True:Bound", "Ready=True:", "Running=False:Completed"]],
    ["Failed", { failure: "boom" }, ["Bound=True:Bound", "Ready=False:", "Running=False:Error"]],
    ["Pending", { kind: "clone", sourceProblem: "missing" }, ["Bound=True:Bound", "Ready=False:", "Running=False:CloneWithoutSource"]],
  ])("%s %o", (phase, opts, expected) => {
    expect(verdicts(phase, opts)).toEqual(expected);
  });

  it("writes CDI's status shape with heartbeat times that only move on change", () => {
    const dv = dataVolume("disk", "ImportInProgress");
    const step = { phase: "ImportInProgress", progress: "25.00%" };
    const v = dataVolumeVerdicts({ phase: step.phase, kind: "import", claimName: "disk", pvc: "bound", failure: undefined, sourceProblem: undefined });
    const first = dataVolumeStatus(dv, step, v, true, T0);
    expect(first).toMatchObject({ phase: "ImportInProgress", progress: "25.00%", claimName: "disk", restartCount: 0 });
    expect(first.conditions?.[0]).toEqual({
      type: "Bound",
      status: "True",
      reason: "Bound",
      message: "PVC disk Bound",
      lastHeartbeatTime: "2026-01-01T00:00:00Z",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    });
    const again = dataVolumeStatus({ ...dv, status: first }, step, v, true, T0 + 60_000);
    expect(again.conditions).toEqual(first.conditions);
  });
});

describe("desiredClaim", () => {
  it("asks for the DataVolume's storage, owned by it", () => {
    const claim = desiredClaim(withSource({ source: { blank: {} }, storage: { resources: { requests: { storage: "5Gi" } }, storageClassName: "fast", accessModes: ["ReadWriteMany"] } }), undefined);
    if ("error" in claim) throw new Error(claim.error);
    expect(claim.metadata).toMatchObject({ name: "disk", namespace: "tenant", ownerReferences: [{ kind: "DataVolume", name: "disk", controller: true }] });
    expect(claim.spec).toEqual({ accessModes: ["ReadWriteMany"], resources: { requests: { storage: "5Gi" } }, volumeMode: "Filesystem", storageClassName: "fast" });
  });

  it("takes a clone's size from the source and defaults to ReadWriteOnce", () => {
    const claim = desiredClaim(withSource({ source: { pvc: { name: "img", namespace: "images" } }, storage: {} }), "20Gi");
    if ("error" in claim) throw new Error(claim.error);
    expect(claim.spec).toMatchObject({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } });
    expect(claim.spec?.storageClassName).toBeUndefined();
  });

  it("says so when no size can be known", () => {
    expect(desiredClaim(withSource({ source: { http: { url: "https://x" } }, storage: {} }), undefined)).toEqual({ error: expect.stringContaining("size") as unknown });
  });
});

describe("dataSourceVerdict", () => {
  const ds = (source: DS["spec"]["source"]): DS => ({ metadata: { name: "fedora", namespace: "images" }, spec: { source } });
  const lookup = (dv: DV | undefined, claimExists: boolean, snapshotReady?: boolean) => ({
    dataVolume: () => dv,
    claim: () => (claimExists ? pvc("img", "Bound") : undefined),
    snapshotReady: () => snapshotReady,
  });

  it.each<[string, DS, ReturnType<typeof lookup>, string]>([
    ["DataVolume succeeded", ds({ pvc: { name: "img", namespace: "images" } }), lookup(dataVolume("img", "Succeeded"), true), "True:Ready"],
    ["DataVolume importing", ds({ pvc: { name: "img", namespace: "images" } }), lookup(dataVolume("img", "ImportInProgress"), true), "False:ImportInProgress"],
    ["plain PVC", ds({ pvc: { name: "img", namespace: "images" } }), lookup(undefined, true), "True:Ready"],
    ["nothing there", ds({ pvc: { name: "img", namespace: "images" } }), lookup(undefined, false), "False:NotFound"],
    ["snapshot ready", ds({ snapshot: { name: "s", namespace: "images" } }), lookup(undefined, false, true), "True:Ready"],
    ["snapshot not ready", ds({ snapshot: { name: "s", namespace: "images" } }), lookup(undefined, false, false), "False:SnapshotNotReady"],
    ["no source", ds({}), lookup(undefined, false), "False:NoSource"],
  ])("%s", (_name, subject, l, expected) => {
    const verdict = dataSourceVerdict(subject, l);
    expect(`${verdict.status}:${verdict.reason ?? ""}`).toBe(expected);
  });
});
