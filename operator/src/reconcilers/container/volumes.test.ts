import { describe, expect, it } from "vitest";
import { API_VERSION, type Container, type Volume } from "../../api/index.js";
import { attachmentId } from "../volume/attach.js";
import type { PodObject } from "./desired.js";
import { containerVolumeAttachments, resolveContainerVolumes } from "./volumes.js";

const container = (volumes: { volumeRef: string; mountPath: string }[], uid = "c1", name = "web"): Container => ({
  apiVersion: API_VERSION,
  kind: "Container",
  metadata: { name, namespace: "project-demo", uid },
  spec: { image: "nginx", volumes },
});

function volume(name: string, status: Partial<NonNullable<Volume["status"]>> | undefined, spec: Partial<Volume["spec"]> = {}): Volume {
  return {
    apiVersion: API_VERSION,
    kind: "Volume",
    metadata: { name, namespace: "project-demo", uid: `${name}-uid` },
    spec: { size: 1, ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

const attached = (serverId: string, serverName: string) => ({ serverId, serverName, attachmentId: "a", attachedAt: "2026-01-01T00:00:00Z" });

describe("resolveContainerVolumes", () => {
  const data = { volumeRef: "data", mountPath: "/data" };
  it.each<[string, Volume | undefined, ReturnType<typeof resolveContainerVolumes>]>([
    ["available", volume("data", { status: "available", claimName: "data.volume" }), { kind: "ok", mounts: [{ volumeRef: "data", claimName: "data.volume", mountPath: "/data" }] }],
    ["in use by this container", volume("data", { status: "in-use", claimName: "data.volume", attachments: [attached("c1", "web")] }), { kind: "ok", mounts: [{ volumeRef: "data", claimName: "data.volume", mountPath: "/data" }] }],
    ["missing", undefined, { kind: "fault", reason: "DependencyNotFound", message: "Volume data could not be found; create it or remove it from spec.volumes" }],
    ["creating", volume("data", { status: "creating" }), { kind: "waiting", message: "volume data is creating; it is mounted once available" }],
    ["not reconciled yet", volume("data", undefined), { kind: "waiting", message: "volume data is creating; it is mounted once available" }],
    ["in error", volume("data", { status: "error" }), { kind: "fault", reason: "DependencyNotReady", message: "volume data is in error; see the volume's Ready condition" }],
    [
      "attached to a server, single-attach",
      volume("data", { status: "in-use", claimName: "data.volume", attachments: [attached("s1", "db")] }),
      { kind: "waiting", message: "Invalid volume: volume data is already attached to db and is not multiattach. It is mounted once released there." },
    ],
    [
      "attached to a server, multiattach",
      volume("data", { status: "in-use", claimName: "data.volume", attachments: [attached("s1", "db")] }, { multiattach: true }),
      { kind: "ok", mounts: [{ volumeRef: "data", claimName: "data.volume", mountPath: "/data" }] },
    ],
  ])("%s", (_what, found, expected) => {
    expect(resolveContainerVolumes(container([data]), () => found)).toEqual(expected);
  });

  it("two containers declaring one single-attach volume: the first declared mounts it, the other waits", () => {
    const free = volume("data", { status: "available", claimName: "data.volume" });
    const first = container([data], "c1", "first");
    first.metadata.creationTimestamp = "2026-01-01T00:00:00Z";
    const second = container([data], "c2", "second");
    second.metadata.creationTimestamp = "2026-01-01T00:00:01Z";
    const claimants = () => [{ kind: "container" as const, object: second }, { kind: "container" as const, object: first }];
    expect(resolveContainerVolumes(first, () => free, claimants).kind).toBe("ok");
    expect(resolveContainerVolumes(second, () => free, claimants)).toEqual({
      kind: "waiting",
      message: "Invalid volume: volume data is already attached to container first and is not multiattach. It is mounted once released there.",
    });
  });

  it("a volume being deleted is not found", () => {
    const going = volume("data", { status: "available", claimName: "data.volume" });
    going.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    expect(resolveContainerVolumes(container([data]), () => going).kind).toBe("fault");
  });
});

describe("containerVolumeAttachments", () => {
  const vol = volume("data", { status: "in-use", claimName: "data.volume", attachments: [attached("c1", "web")] });
  const podWith = (claims: string[]): PodObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "x" },
    spec: { containers: [], volumes: claims.map((claimName, i) => ({ name: `vol-${i}`, persistentVolumeClaim: { claimName } })) },
  });

  it("lists containers whose pod carries the claim, keeping when they were first seen", () => {
    const result = containerVolumeAttachments({
      volume: vol,
      containers: [
        { container: container([], "c1", "web"), pod: podWith(["data.volume"]) },
        { container: container([], "c2", "job"), pod: podWith(["data.volume"]) },
        { container: container([], "c3", "stopped"), pod: undefined },
        { container: container([], "c4", "other"), pod: podWith(["other.volume"]) },
      ],
      now: "2026-02-02T00:00:00Z",
    });
    expect(result).toEqual([
      { serverId: "c1", serverName: "web", attachmentId: attachmentId("c1", "data-uid"), attachedAt: "2026-01-01T00:00:00Z" },
      { serverId: "c2", serverName: "job", attachmentId: attachmentId("c2", "data-uid"), attachedAt: "2026-02-02T00:00:00Z" },
    ]);
  });

  it("none before the volume has a claim", () => {
    expect(containerVolumeAttachments({ volume: volume("data", { status: "creating" }), containers: [{ container: container([]), pod: podWith(["data.volume"]) }], now: "x" })).toEqual([]);
  });
});
