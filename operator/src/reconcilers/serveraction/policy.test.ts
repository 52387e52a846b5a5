import { describe, expect, it } from "vitest";
import { REQUESTED_AT_ANNOTATION, type Server, type ServerAction, type ServerStatus } from "../../api/index.js";
import { desiredMigration, desiredSnapshotImage } from "./desired.js";
import { requestedAtOf } from "./order.js";
import { actionReady, actionsAhead, startDecision, type ServerForAction } from "./policy.js";

function action(name: string, spec: Partial<ServerAction["spec"]>, created = "2026-01-01T00:00:00Z", phase?: ServerAction["status"]): ServerAction {
  return {
    apiVersion: "altostack.io/v1alpha1",
    kind: "ServerAction",
    metadata: { name, namespace: "project-demo", uid: `uid-${name}`, creationTimestamp: created },
    spec: { serverRef: "web", action: "reboot", ...spec },
    ...(phase === undefined ? {} : { status: phase }),
  };
}

const status = (s: Partial<ServerStatus>): ServerStatus => ({ status: "ACTIVE", vmState: "active", ...s });
const server = (over: Partial<ServerForAction> = {}): ServerForAction => ({
  exists: true,
  deleting: false,
  uid: "srv-uid",
  locked: false,
  admitted: true,
  status: status({}),
  ...over,
});

describe("when an action may start", () => {
  it.each<[string, Partial<ServerAction["spec"]>, Partial<ServerForAction>, string, string | undefined]>([
    ["reboot of an active server", {}, {}, "start", undefined],
    ["a missing server", {}, { exists: false }, "fail", "Instance web could not be found."],
    ["a locked server", {}, { locked: true }, "fail", "Instance srv-uid is locked"],
    ["a server with a task under way", {}, { status: status({ taskState: "powering-off" }) }, "wait", "waiting for the server: it is ACTIVE (powering-off)"],
    ["a server still building", {}, { status: status({ status: "BUILD", vmState: "building", taskState: "spawning" }) }, "wait", undefined],
    ["reboot of a stopped server", {}, { status: status({ status: "SHUTOFF", vmState: "stopped" }) }, "fail", "Cannot 'reboot' instance srv-uid while it is in vm_state stopped"],
    ["resize of a stopped server", { action: "resize", flavorRef: "m1.large" }, { status: status({ status: "SHUTOFF", vmState: "stopped" }) }, "start", undefined],
    ["confirm without a resize", { action: "confirmResize" }, {}, "fail", "Cannot 'confirmResize' instance srv-uid while it is in vm_state active"],
    ["confirm in VERIFY_RESIZE", { action: "confirmResize" }, { status: status({ status: "VERIFY_RESIZE", vmState: "resized" }) }, "start", undefined],
    ["rebuild of a server in ERROR", { action: "rebuild" }, { status: status({ status: "ERROR", vmState: "error" }) }, "start", undefined],
    ["live migration of a paused server", { action: "liveMigrate" }, { status: status({ status: "PAUSED", vmState: "paused" }) }, "fail", undefined],
    ["snapshot of a suspended server", { action: "createImage", imageName: "s" }, { status: status({ status: "SUSPENDED", vmState: "suspended" }) }, "start", undefined],
    [
      "rebuild of a volume-backed server",
      { action: "rebuild", imageRef: "cirros" },
      { status: status({ bootVolume: "root-vol" }) },
      "fail",
      "Image cirros is unacceptable: Unable to rebuild with a different image for a volume-backed server.",
    ],
    ["anything on a server never built", { action: "rebuild" }, { admitted: false, status: status({ status: "ERROR", vmState: "error" }) }, "fail", undefined],
  ])("%s → %s", (_name, spec, srv, kind, message) => {
    const decision = startDecision(action("a", spec), server(srv), []);
    expect(decision.kind).toBe(kind);
    if (message !== undefined) expect("message" in decision ? decision.message : "").toBe(message);
  });

  it("runs one at a time in creation order", () => {
    const first = action("first", {}, "2026-01-01T00:00:01Z");
    const second = action("second", {}, "2026-01-01T00:00:02Z");
    const done = action("done", {}, "2026-01-01T00:00:00Z", { phase: "Succeeded" });
    expect(actionsAhead(second, [first, second, done]).map((a) => a.metadata.name)).toEqual(["first"]);
    expect(actionsAhead(first, [first, second, done])).toEqual([]);
    expect(startDecision(second, server(), [first])).toEqual({ kind: "wait", message: "waiting for ServerAction first (reboot) to finish" });
    // A running action is ahead whatever its age.
    const running = action("zz-running", {}, "2026-01-01T00:00:09Z", { phase: "Running" });
    expect(actionsAhead(first, [first, running]).map((a) => a.metadata.name)).toEqual(["zz-running"]);
  });

  it("orders two actions of one second by their requested-at stamp, not by name", () => {
    const stamp = (a: ServerAction, at: string): ServerAction => ({ ...a, metadata: { ...a.metadata, annotations: { [REQUESTED_AT_ANNOTATION]: at } } });
    const reboot = stamp(action("web-reboot-zz", {}, "2026-01-01T00:00:05Z"), "2026-01-01T00:00:05.120Z");
    const hard = stamp(action("web-reboot-aa", { type: "HARD" }, "2026-01-01T00:00:05Z"), "2026-01-01T00:00:05.480Z");
    expect(actionsAhead(hard, [reboot, hard]).map((a) => a.metadata.name)).toEqual(["web-reboot-zz"]);
    expect(actionsAhead(reboot, [reboot, hard])).toEqual([]);
    // Without stamps, one second is a tie, broken by name.
    const [x, y] = [action("web-reboot-zz", {}, "2026-01-01T00:00:05Z"), action("web-reboot-aa", {}, "2026-01-01T00:00:05Z")];
    expect(actionsAhead(x, [x, y]).map((a) => a.metadata.name)).toEqual(["web-reboot-aa"]);
    // A stamp that is not a time is ignored.
    expect(requestedAtOf(stamp(x, "soon"))).toBe(Date.parse("2026-01-01T00:00:05Z"));
  });

  it("reports Ready True only once an action succeeded", () => {
    expect(actionReady("Succeeded", "ok")).toEqual({ status: "True", reason: "ActionSucceeded", message: "ok" });
    expect(actionReady("Failed", "no").status).toBe("False");
    expect(actionReady("Running", "…").reason).toBe("ActionRunning");
  });
});

describe("what actions create", () => {
  const web: Server = {
    apiVersion: "altostack.io/v1alpha1",
    kind: "Server",
    metadata: { name: "web", namespace: "project-demo", uid: "srv-uid" },
    spec: { flavorRef: "m1.small", imageRef: "cirros" },
    status: {
      flavor: { name: "m1.small", vcpus: 1, ram: 2048, disk: 20 },
      image: { ref: "cirros", id: "img-uid", name: "cirros", namespace: "project-demo", dataSource: "cirros.image", properties: { hw_disk_bus: "scsi" } },
    },
  };

  it("a createImage: a private snapshot image of the server, with Nova's snapshot properties", () => {
    const image = desiredSnapshotImage(action("snap", { action: "createImage", imageName: "nightly", imageMetadata: { backup: "yes" } }), web);
    expect(image.metadata.name).toBe("web-snapshot-uid-snap");
    expect(image.spec).toEqual({
      name: "nightly",
      source: { serverRef: "web" },
      diskFormat: "raw",
      containerFormat: "bare",
      visibility: "private",
      minDisk: 20,
      properties: { hw_disk_bus: "scsi", backup: "yes", image_type: "snapshot", instance_uuid: "srv-uid", base_image_ref: "img-uid" },
    });
  });

  it("a migration: a VirtualMachineInstanceMigration of the server's VMI, pinned to the host asked for", () => {
    expect(desiredMigration(action("mig", { action: "liveMigrate", host: "node-2" })).spec).toEqual({
      vmiName: "web",
      addedNodeSelector: { "kubernetes.io/hostname": "node-2" },
    });
    expect(desiredMigration(action("mig", { action: "migrate" })).spec).toEqual({ vmiName: "web" });
  });
});
