import { describe, expect, it } from "vitest";
import type { FlavorSnapshot, ImageSnapshot } from "../../api/index.js";
import { planOperations, type ActionView, type OperationInput, type OperationState } from "./operations.js";

const SMALL: FlavorSnapshot = { name: "small", vcpus: 1, ram: 512, disk: 1 };
const MEDIUM: FlavorSnapshot = { name: "medium", vcpus: 2, ram: 1024, disk: 3 };
const CIRROS: ImageSnapshot = { ref: "cirros", id: "i1", name: "cirros", namespace: "ns", dataSource: "cirros.image" };
const UBUNTU: ImageSnapshot = { ...CIRROS, ref: "ubuntu", id: "i2", name: "ubuntu", dataSource: "ubuntu.image" };
const FLAVORS: Record<string, FlavorSnapshot> = { small: SMALL, medium: MEDIUM };
const IMAGES: Record<string, ImageSnapshot> = { cirros: CIRROS, ubuntu: UBUNTU };

const steady: OperationState = { flavor: SMALL, image: CIRROS, rootDisk: "vm-root", resize: undefined, rebuild: undefined, currentAction: undefined };

function action(name: string, kind: ActionView["action"], phase: ActionView["phase"], extra: Partial<ActionView> = {}): ActionView {
  return { name, action: kind, phase, requestedAt: Date.parse(`2026-01-01T00:00:0${name.length}Z`), ...extra };
}

function plan(over: Partial<OperationInput> & { applied?: string; diskPhase?: string; diskInUse?: boolean } = {}) {
  const { applied, diskPhase, diskInUse, ...rest } = over;
  return planOperations({
    vmName: "vm",
    serverId: "uid-1",
    spec: { flavorRef: "small", imageRef: "cirros" },
    state: steady,
    actions: [],
    wantsRunning: true,
    vmState: "active",
    flavorFor: (name) => {
      const flavor = FLAVORS[name];
      return flavor === undefined ? { kind: "fault", fault: { code: 400, reason: "DependencyNotFound", message: `Flavor ${name} could not be found.` } } : { kind: "ok", value: flavor };
    },
    imageFor: (ref) => {
      const image = IMAGES[ref];
      return image === undefined ? { kind: "waiting", message: `waiting for image ${ref}` } : { kind: "ok", value: image };
    },
    quota: () => undefined,
    flavorApplied: (f) => f.name === (applied ?? "small"),
    disk: () => ({ phase: diskPhase ?? "Succeeded", failure: diskPhase === "Failed" ? "boom" : undefined, inUse: diskInUse ?? true }),
    ...rest,
  });
}

describe("resize through ServerActions (Nova's VERIFY_RESIZE flow)", () => {
  it("starts on the resize action: new flavor, old one kept, restart wanted", () => {
    const result = plan({ actions: [action("r", "resize", "Running", { flavorRef: "medium" })] });
    expect(result.state).toMatchObject({
      flavor: MEDIUM,
      resize: { oldFlavor: SMALL, stage: "Resizing", confirmRequired: true },
      currentAction: { name: "r", action: "resize" },
    });
    expect(result.restartWanted).toBe(true);
  });

  it("reaches VERIFY_RESIZE once the guest runs the new flavor, and reports the action done", () => {
    const state: OperationState = { ...steady, flavor: MEDIUM, resize: { oldFlavor: SMALL, stage: "Resizing", confirmRequired: true }, currentAction: { name: "r", action: "resize" } };
    const result = plan({ state, applied: "medium", actions: [action("r", "resize", "Running", { flavorRef: "medium" })] });
    expect(result.state.resize?.stage).toBe("VerifyResize");
    expect(result.state.currentAction).toMatchObject({ result: "Succeeded" });
    expect(result.restartWanted).toBe(false);
  });

  const verifying: OperationState = { ...steady, flavor: MEDIUM, resize: { oldFlavor: SMALL, stage: "VerifyResize", confirmRequired: true } };

  it("confirms once spec.flavorRef names the new flavor", () => {
    const actions = [action("r", "resize", "Succeeded"), action("c", "confirmResize", "Running")];
    const waiting = plan({ state: verifying, actions, applied: "medium" });
    expect(waiting.state.resize?.stage).toBe("VerifyResize");
    const done = plan({ state: verifying, actions, applied: "medium", spec: { flavorRef: "medium", imageRef: "cirros" } });
    expect(done.state.resize).toBeUndefined();
    expect(done.state.currentAction).toMatchObject({ name: "c", result: "Succeeded" });
  });

  it("reverts to the old flavor, then finishes when the guest runs it", () => {
    const actions = [action("r", "resize", "Succeeded"), action("v", "revertResize", "Running")];
    const reverting = plan({ state: verifying, actions, applied: "medium" });
    expect(reverting.state).toMatchObject({ flavor: SMALL, resize: { stage: "Reverting" } });
    expect(reverting.restartWanted).toBe(true);
    const done = plan({ state: reverting.state, actions, applied: "small" });
    expect(done.state.resize).toBeUndefined();
    expect(done.state.currentAction).toMatchObject({ name: "v", result: "Succeeded" });
  });

  it("resizes a volume-backed server to a flavor with a smaller disk (Nova skips the disk check: the boot volume is not the flavor's)", () => {
    const down = { state: { ...steady, flavor: MEDIUM }, spec: { flavorRef: "medium", imageRef: "cirros" }, applied: "medium", actions: [action("r", "resize", "Running", { flavorRef: "small" })] };
    expect(plan(down).state.currentAction?.message).toMatch(/Unable to resize disk down/);
    const volumeBacked = plan({ ...down, volumeBacked: true });
    expect(volumeBacked.state.currentAction?.result).toBeUndefined();
    expect(volumeBacked.state.resize).toMatchObject({ oldFlavor: MEDIUM });
    expect(volumeBacked.state.flavor).toEqual(SMALL);
  });

  it("fails a confirm with nothing to confirm, a resize down, an unknown flavor and a quota excess", () => {
    expect(plan({ actions: [action("c", "confirmResize", "Running")] }).state.currentAction).toMatchObject({
      result: "Failed",
      code: 409,
      message: "Cannot 'confirmResize' instance uid-1 while it is in vm_state active",
    });
    expect(plan({ state: { ...steady, flavor: MEDIUM }, spec: { flavorRef: "medium", imageRef: "cirros" }, applied: "medium", actions: [action("r", "resize", "Running", { flavorRef: "small" })] }).state.currentAction?.message).toMatch(/Unable to resize disk down/);
    expect(plan({ actions: [action("r", "resize", "Running", { flavorRef: "huge" })] }).state.currentAction).toMatchObject({ result: "Failed", code: 400 });
    const over = plan({ actions: [action("r", "resize", "Running", { flavorRef: "medium" })], quota: () => ({ resource: "cores", message: "Quota exceeded for cores" }) });
    expect(over.state.currentAction).toMatchObject({ result: "Failed", code: 403, message: "Quota exceeded for cores" });
    expect(over.state.flavor).toBe(SMALL);
  });
});

describe("declarative changes (GitOps)", () => {
  it("resizes without VERIFY_RESIZE when spec.flavorRef changes", () => {
    const started = plan({ spec: { flavorRef: "medium", imageRef: "cirros" } });
    expect(started.state.resize).toEqual({ oldFlavor: SMALL, stage: "Resizing", confirmRequired: false });
    const done = plan({ state: started.state, spec: { flavorRef: "medium", imageRef: "cirros" }, applied: "medium" });
    expect(done.state.resize).toBeUndefined();
    expect(done.state.flavor).toBe(MEDIUM);
  });

  it("keeps running on its flavor when the new one does not exist, and says so", () => {
    const result = plan({ spec: { flavorRef: "gone", imageRef: "cirros" } });
    expect(result.state).toEqual(steady);
    expect(result.blocked?.message).toBe("Flavor gone could not be found. The server keeps running on flavor small (1 vCPU, 512 MiB RAM, 1 GiB disk).");
  });

  it("rebuilds onto a new root disk when spec.imageRef changes, and drops the old disk once the guest uses the new one", () => {
    const started = plan({ spec: { flavorRef: "small", imageRef: "ubuntu" } });
    expect(started.state).toMatchObject({ image: UBUNTU, rootDisk: "vm-root-1", rebuild: { fromDisk: "vm-root", fromImage: CIRROS } });
    const cloning = plan({ state: started.state, spec: { flavorRef: "small", imageRef: "ubuntu" }, diskPhase: "CloneInProgress", diskInUse: false });
    expect(cloning.restartWanted).toBe(false);
    const ready = plan({ state: started.state, spec: { flavorRef: "small", imageRef: "ubuntu" }, diskInUse: false });
    expect(ready.restartWanted).toBe(true);
    const done = plan({ state: started.state, spec: { flavorRef: "small", imageRef: "ubuntu" } });
    expect(done.state.rebuild).toBeUndefined();
    expect(done.deleteDisks).toEqual(["vm-root"]);
  });

  it("goes back to the old disk and image when the new disk cannot be made", () => {
    const started = plan({ spec: { flavorRef: "small", imageRef: "ubuntu" } });
    const failed = plan({ state: started.state, spec: { flavorRef: "small", imageRef: "ubuntu" }, diskPhase: "Failed" });
    expect(failed.state).toMatchObject({ rootDisk: "vm-root", image: CIRROS, rebuild: undefined });
    expect(failed.deleteDisks).toEqual(["vm-root-1"]);
    expect(failed.blocked?.message).toMatch(/its new root disk could not be created: boom.*rebuild ServerAction to try again/);
    // Not retried on its own (no loop of failing disks) …
    const later = plan({ state: failed.state, spec: { flavorRef: "small", imageRef: "ubuntu" } });
    expect(later.state.rebuild).toBeUndefined();
    // … but a rebuild action tries again.
    const retry = plan({ state: failed.state, spec: { flavorRef: "small", imageRef: "ubuntu" }, actions: [action("rb", "rebuild", "Running")] });
    expect(retry.state).toMatchObject({ image: UBUNTU, rebuild: { fromDisk: "vm-root" }, rebuildFailure: undefined });
  });

  it("waits for queued resize/rebuild actions instead of acting on the spec", () => {
    const result = plan({ spec: { flavorRef: "medium", imageRef: "cirros" }, actions: [action("r", "rebuild", "Pending")] });
    expect(result.state.resize).toBeUndefined();
  });
});

describe("the current action", () => {
  it("takes up the oldest running action and lets go of it once it is final", () => {
    const actions = [action("bb", "reboot", "Running"), action("a", "reboot", "Running")];
    expect(plan({ actions }).state.currentAction).toEqual({ name: "a", action: "reboot" });
    const finished = plan({ state: { ...steady, currentAction: { name: "a", action: "reboot" } }, actions: [action("a", "reboot", "Succeeded")] });
    expect(finished.state.currentAction).toBeUndefined();
  });

  it("rebuilds on the same image for a rebuild action, once the spec names the action's image", () => {
    const waiting = plan({ actions: [action("rb", "rebuild", "Running", { imageRef: "ubuntu" })] });
    expect(waiting.state.rebuild).toBeUndefined();
    const same = plan({ actions: [action("rb", "rebuild", "Running")] });
    expect(same.state).toMatchObject({ rootDisk: "vm-root-1", image: CIRROS, rebuild: { fromDisk: "vm-root" } });
    const done = plan({ state: same.state, actions: [action("rb", "rebuild", "Running")] });
    expect(done.state.currentAction).toMatchObject({ result: "Succeeded" });
  });
});
