import { describe, expect, it } from "vitest";
import { novaState, readyCondition, runtimeFault, type ServerObservation, type VmiObservation } from "./status.js";

const running: VmiObservation = { phase: "Running", paused: false, deleting: false, nodeName: "n1", migrating: false };
const base: ServerObservation = {
  desiredPower: "Active",
  deleting: false,
  admitted: true,
  fault: undefined,
  rootDiskPhase: "Succeeded",
  vmi: running,
  launched: true,
  resizeStage: undefined,
  rebuilding: false,
  action: undefined,
};

describe("Nova state", () => {
  it.each<[string, Partial<ServerObservation>, [string, string, string | undefined, number]]>([
    ["not admitted yet", { admitted: false, vmi: undefined, launched: false, rootDiskPhase: undefined }, ["BUILD", "building", "scheduling", 0]],
    ["root disk cloning", { vmi: undefined, launched: false, rootDiskPhase: "CloneInProgress" }, ["BUILD", "building", "block_device_mapping", 0]],
    ["VMI scheduling", { vmi: { ...running, phase: "Scheduling" }, launched: false }, ["BUILD", "building", "scheduling", 0]],
    ["VMI scheduled", { vmi: { ...running, phase: "Scheduled" }, launched: false }, ["BUILD", "building", "spawning", 0]],
    ["running", {}, ["ACTIVE", "active", undefined, 1]],
    ["running, asked to stop", { desiredPower: "Shutoff" }, ["ACTIVE", "active", "powering-off", 1]],
    ["stopping", { desiredPower: "Shutoff", vmi: { ...running, deleting: true } }, ["ACTIVE", "active", "powering-off", 4]],
    ["stopped", { desiredPower: "Shutoff", vmi: undefined }, ["SHUTOFF", "stopped", undefined, 4]],
    ["stopped, asked to start", { vmi: undefined }, ["SHUTOFF", "stopped", "powering-on", 4]],
    ["created stopped", { desiredPower: "Shutoff", vmi: undefined, launched: false }, ["SHUTOFF", "stopped", undefined, 4]],
    ["asked to pause", { desiredPower: "Paused" }, ["ACTIVE", "active", "pausing", 1]],
    ["paused", { desiredPower: "Paused", vmi: { ...running, paused: true } }, ["PAUSED", "paused", undefined, 3]],
    ["paused, asked to run", { vmi: { ...running, paused: true } }, ["PAUSED", "paused", "unpausing", 3]],
    ["suspended (paused guest)", { desiredPower: "Suspended", vmi: { ...running, paused: true } }, ["SUSPENDED", "suspended", undefined, 7]],
    ["shelving", { desiredPower: "Shelved", vmi: { ...running, deleting: true } }, ["SHELVED", "shelved", "shelving_offloading", 4]],
    ["shelved offloaded", { desiredPower: "Shelved", vmi: undefined }, ["SHELVED_OFFLOADED", "shelved_offloaded", undefined, 4]],
    ["resizing", { resizeStage: "Resizing" }, ["RESIZE", "active", "resize_migrating", 1]],
    ["resize restarting", { resizeStage: "Resizing", vmi: undefined }, ["RESIZE", "active", "resize_finish", 4]],
    ["verify resize", { resizeStage: "VerifyResize" }, ["VERIFY_RESIZE", "resized", undefined, 1]],
    ["reverting", { resizeStage: "Reverting" }, ["REVERT_RESIZE", "resized", "resize_reverting", 1]],
    ["rebuilding, disk cloning", { rebuilding: true, rootDiskPhase: "CloneInProgress" }, ["REBUILD", "active", "rebuild_block_device_mapping", 1]],
    ["rebuilding, disk ready", { rebuilding: true }, ["REBUILD", "active", "rebuild_spawning", 1]],
    ["live migrating", { vmi: { ...running, migrating: true } }, ["MIGRATING", "active", "migrating", 1]],
    ["migration action taken up", { action: { action: "liveMigrate" } }, ["MIGRATING", "active", "migrating", 1]],
    ["soft reboot", { action: { action: "reboot", type: "SOFT" } }, ["REBOOT", "active", "reboot_started", 1]],
    ["hard reboot", { action: { action: "reboot", type: "HARD" } }, ["HARD_REBOOT", "active", "reboot_started_hard", 1]],
    ["snapshot", { action: { action: "createImage" } }, ["ACTIVE", "active", "image_snapshot", 1]],
    ["fault", { fault: { code: 500, message: "x" } }, ["ERROR", "error", undefined, 1]],
    ["deleting", { deleting: true }, ["ACTIVE", "active", "deleting", 1]],
  ])("%s", (_name, over, [status, vmState, taskState, powerState]) => {
    expect(novaState({ ...base, ...over })).toEqual({ status, vmState, taskState, powerState });
  });
});

describe("runtime faults", () => {
  const input: Parameters<typeof runtimeFault>[0] = {
    serverId: "id-1",
    rootDisk: undefined,
    printableStatus: "Running",
    unschedulable: undefined,
    vmiPhase: "Running",
  };
  it.each<[string, Partial<Parameters<typeof runtimeFault>[0]>, string | undefined]>([
    ["healthy", {}, undefined],
    ["root disk failed", { rootDisk: { phase: "Failed", message: "clone failed" } }, "Build of instance id-1 aborted: its root disk could not be created: clone failed"],
    ["unschedulable", { unschedulable: "0/2 nodes are available." }, "No valid host was found. 0/2 nodes are available."],
    ["guest failed", { vmiPhase: "Failed" }, "Instance id-1 stopped unexpectedly (the virtual machine instance failed)"],
  ])("%s", (_name, over, message) => {
    expect(runtimeFault({ ...input, ...over })?.message).toBe(message);
  });
});

describe("Ready", () => {
  const active = novaState(base);
  it.each<[string, Parameters<typeof readyCondition>[0], string, string]>([
    ["settled", { nova: active, fault: undefined, waiting: undefined, blocked: undefined, host: "n1" }, "True", "server is ACTIVE on n1"],
    ["fault", { nova: active, fault: { code: 403, message: "Quota exceeded", reason: "QuotaExceeded" }, waiting: undefined, blocked: undefined, host: undefined }, "False", "Quota exceeded"],
    ["waiting", { nova: active, fault: undefined, waiting: "waiting for image x", blocked: undefined, host: undefined }, "False", "waiting for image x"],
    ["blocked", { nova: active, fault: undefined, waiting: undefined, blocked: { reason: "DependencyNotFound", message: "gone" }, host: undefined }, "False", "gone"],
    ["in progress", { nova: novaState({ ...base, desiredPower: "Shutoff" }), fault: undefined, waiting: undefined, blocked: undefined, host: undefined }, "False", "server is ACTIVE (powering-off)"],
  ])("%s", (_name, input, status, message) => {
    expect(readyCondition(input)).toMatchObject({ status, message });
  });
});
