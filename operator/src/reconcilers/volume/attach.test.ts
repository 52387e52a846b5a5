import { describe, expect, it } from "vitest";
import { API_VERSION, type Container, type Server, type Volume } from "../../api/index.js";
import type { VirtualMachine, VirtualMachineInstance } from "../../generated/index.js";
import {
  attachProgress,
  attachmentId,
  blockDevicesOf,
  bootVolumeOf,
  imageBootVolumeName,
  planServerVolumes,
  singleAttachHolder,
  vmVolumeName,
  volumeBusyMessage,
  type VolumeClaimant,
  volumeAttachments,
  volumesDeletedWith,
  volumesOfServer,
  type ServerVolumesInput,
} from "./attach.js";

const NS = "project-alpha";

function server(name: string, volumes: string[], created = "2026-01-01T00:00:00Z"): Server {
  return {
    apiVersion: API_VERSION,
    kind: "Server",
    metadata: { name, namespace: NS, uid: `uid-${name}`, creationTimestamp: created },
    spec: { flavorRef: "small", imageRef: "cirros", volumes: volumes.map((volumeRef) => ({ volumeRef })) },
  };
}
function volume(name: string, status: Volume["status"], spec: Partial<Volume["spec"]> = {}): Volume {
  return { apiVersion: API_VERSION, kind: "Volume", metadata: { name, namespace: NS, uid: `uid-${name}` }, spec: { size: 1, ...spec }, status };
}
function vmWith(volumes: NonNullable<NonNullable<VirtualMachine["spec"]["template"]["spec"]>["volumes"]>): VirtualMachine {
  const vm: VirtualMachine = { spec: { template: { spec: { domain: { devices: {} }, volumes } } } };
  return vm;
}

const VOLUMES: Record<string, Volume> = {
  data: volume("data", { status: "available", claimName: "data.volume" }),
  shared: volume("shared", { status: "in-use", claimName: "shared.volume" }, { multiattach: true }),
  young: volume("young", { status: "creating" }),
};

function plan(over: Partial<ServerVolumesInput> & { server: Server }) {
  return planServerVolumes({
    volume: (n) => VOLUMES[n],
    holders: () => [over.server],
    currentVm: undefined,
    vmRunning: true,
    ...over,
  });
}

describe("planServerVolumes", () => {
  it("hot-plugs available volumes into a running VM", () => {
    expect(plan({ server: server("web", ["data"]) })).toEqual({
      volumes: [{ name: "vol-data", claimName: "data.volume", hotpluggable: true }],
      problems: [],
    });
  });
  it("adds plain disks to a stopped VM, and keeps how a volume already on the VM was attached", () => {
    const current = vmWith([{ name: "vol-data", persistentVolumeClaim: { claimName: "data.volume", hotpluggable: true } }]);
    const result = plan({ server: server("web", ["data", "shared"]), currentVm: current, vmRunning: false });
    expect(result.volumes).toEqual([
      { name: "vol-data", claimName: "data.volume", hotpluggable: true },
      { name: "vol-shared", claimName: "shared.volume", hotpluggable: false },
    ]);
  });
  it.each<[string, NonNullable<Volume["status"]>["status"], boolean]>([
    ["reserved for this server", "reserved", true],
    ["attaching to this server", "attaching", true],
    ["extending", "extending", true],
    ["in error", "error", false],
    ["failed to extend", "error_extending", false],
  ])("a volume %s: attached when new → %s", (_name, status, attached) => {
    const vol = volume("data", { status, claimName: "data.volume" });
    expect(plan({ server: server("web", ["data"]), volume: () => vol }).volumes.length).toBe(attached ? 1 : 0);
    // A volume already on the VM stays through whatever happens to it (an extend that failed does not detach it).
    const current = vmWith([{ name: "vol-data", persistentVolumeClaim: { claimName: "data.volume" } }]);
    expect(plan({ server: server("web", ["data"]), volume: () => vol, currentVm: current }).volumes).toEqual([{ name: "vol-data", claimName: "data.volume", hotpluggable: false }]);
  });
  it("waits for volumes being created and reports missing ones", () => {
    const result = plan({ server: server("web", ["young", "nope"]) });
    expect(result.volumes).toEqual([]);
    expect(result.problems).toEqual(["volume young is creating; it is attached once available", "Volume nope could not be found."]);
  });
  it("a single-attach volume stays with the server that declared it first", () => {
    const first = server("first", ["data"], "2026-01-01T00:00:00Z");
    const second = server("second", ["data"], "2026-01-02T00:00:00Z");
    const holders = () => [second, first];
    expect(plan({ server: first, holders }).volumes).toHaveLength(1);
    const refused = plan({ server: second, holders });
    expect(refused.volumes).toEqual([]);
    expect(refused.problems).toEqual(["Invalid volume: volume data is already attached to server first and is not multiattach."]);
  });
  it("a single-attach volume stays with the server it is attached to, whatever the creation order", () => {
    // Created in the same second: the name would pick "a-later"; the attachment decides instead.
    const holder = server("z-holder", ["data"], "2026-01-01T00:00:05Z");
    const latecomer = server("a-later", ["data"], "2026-01-01T00:00:05Z");
    const attached = volume("data", {
      status: "in-use",
      claimName: "data.volume",
      attachments: [{ serverId: "uid-z-holder", attachmentId: "a1" }],
    });
    const input = { volume: () => attached, holders: () => [holder, latecomer] };
    expect(plan({ ...input, server: holder }).problems).toEqual([]);
    expect(plan({ ...input, server: latecomer }).problems).toEqual([
      "Invalid volume: volume data is already attached to server z-holder and is not multiattach.",
    ]);
  });
  it("a single-attach volume a container mounts is not attached; the server says why and gets it once the container lets go", () => {
    const web = server("web", ["data"], "2026-01-01T00:00:00Z");
    const mounter = containerOf("cache", ["data"], "2026-01-02T00:00:00Z");
    const mounted = volume("data", { status: "in-use", claimName: "data.volume", attachments: [{ serverId: "uid-cache", attachmentId: "a1" }] });
    const refused = plan({ server: web, volume: () => mounted, containers: () => [mounter] });
    expect(refused.volumes).toEqual([]);
    expect(refused.problems).toEqual(["Invalid volume: volume data is already attached to container cache and is not multiattach."]);
    const released = volume("data", { status: "reserved", claimName: "data.volume" });
    expect(plan({ server: web, volume: () => released, containers: () => [] }).volumes).toHaveLength(1);
  });
  it("a multiattach volume goes to every server", () => {
    const a = server("a", ["shared"]);
    const b = server("b", ["shared"], "2026-02-01T00:00:00Z");
    expect(plan({ server: b, holders: () => [a, b] }).volumes).toHaveLength(1);
  });
  it("names VM volumes as DNS labels", () => {
    expect(vmVolumeName("my.volume.with.dots")).toMatch(/^vol-[a-z0-9-]+$/);
    expect(vmVolumeName("x".repeat(200)).length).toBeLessThanOrEqual(63);
  });
});

function containerOf(name: string, volumes: string[], created: string, deleting?: string): Container {
  return {
    apiVersion: API_VERSION,
    kind: "Container",
    metadata: { name, namespace: NS, uid: `uid-${name}`, creationTimestamp: created, ...(deleting === undefined ? {} : { deletionTimestamp: deleting }) },
    spec: { image: "nginx", volumes: volumes.map((volumeRef) => ({ volumeRef, mountPath: `/${volumeRef}` })) },
  };
}

describe("singleAttachHolder: one rule for servers and containers", () => {
  const early = "2026-01-01T00:00:00Z";
  const late = "2026-01-02T00:00:00Z";
  const srv = (name: string, created: string, deleting?: string): VolumeClaimant => {
    const s = server(name, ["data"], created);
    if (deleting !== undefined) s.metadata.deletionTimestamp = deleting;
    return { kind: "server", object: s };
  };
  const ctr = (name: string, created: string, deleting?: string): VolumeClaimant => ({ kind: "container", object: containerOf(name, ["data"], created, deleting) });
  const attachedTo = (...ids: { id: string; name: string }[]) =>
    volume("data", { status: ids.length === 0 ? "available" : "in-use", claimName: "data.volume", attachments: ids.map((a) => ({ serverId: a.id, serverName: a.name, attachmentId: `att-${a.id}` })) });
  it.each<[string, Volume, VolumeClaimant[], { kind: VolumeClaimant["kind"] | undefined; name: string } | undefined]>([
    ["nothing declares it", attachedTo(), [], undefined],
    ["first declaration wins: a container before a server", attachedTo(), [srv("web", late), ctr("cache", early)], { kind: "container", name: "cache" }],
    ["first declaration wins: a server before a container", attachedTo(), [ctr("cache", late), srv("web", early)], { kind: "server", name: "web" }],
    ["same second: the name breaks the tie", attachedTo(), [ctr("b", early), ctr("a", early)], { kind: "container", name: "a" }],
    ["the one it is attached to keeps it, whatever the order", attachedTo({ id: "uid-cache", name: "cache" }), [srv("web", early), ctr("cache", late)], { kind: "container", name: "cache" }],
    ["a deleting holder whose Pod still has it keeps it until it lets go", attachedTo({ id: "uid-cache", name: "cache" }), [srv("web", early), ctr("cache", early, late)], { kind: "container", name: "cache" }],
    ["an attachment left by one that no longer declares it still holds it", attachedTo({ id: "uid-gone", name: "old-server" }), [ctr("cache", early)], { kind: undefined, name: "old-server" }],
    ["a deleting declarer without an attachment yields to the next", attachedTo(), [srv("web", early, late), ctr("cache", late)], { kind: "container", name: "cache" }],
  ])("%s", (_what, vol, claimants, expected) => {
    const holder = singleAttachHolder(vol, claimants);
    expect(holder === undefined ? undefined : { kind: holder.kind, name: holder.name }).toEqual(expected);
  });
  it("says who holds it, in Nova's words", () => {
    expect(volumeBusyMessage("data", { kind: "container", uid: "u", name: "cache" })).toBe(
      "Invalid volume: volume data is already attached to container cache and is not multiattach.",
    );
    expect(volumeBusyMessage("data", { kind: undefined, uid: "u", name: "old" })).toBe("Invalid volume: volume data is already attached to old and is not multiattach.");
  });
});

describe("volumeAttachments", () => {
  const vm = vmWith([{ name: "vol-data", persistentVolumeClaim: { claimName: "data.volume", hotpluggable: true } }]);
  const vmi = { spec: { domain: { devices: {} } }, status: { volumeStatus: [{ name: "vol-data", target: "sda" }] } } as VirtualMachineInstance;
  it("one per server whose VM carries the claim, with the guest device", () => {
    const web = server("web", ["data"]);
    const other = server("other", ["data"]);
    expect(volumeAttachments({ volume: volume("data", { status: "available", claimName: "data.volume" }), servers: [{ server: web, vm, vmi }, { server: other, vm: vmWith([]), vmi: undefined }], now: "T1" })).toEqual([
      { serverId: "uid-web", serverName: "web", attachmentId: attachmentId("uid-web", "uid-data"), device: "/dev/sda", attachedAt: "T1" },
    ]);
  });
  it("keeps the first attachedAt and has no device before the guest reports one", () => {
    const attached = volume("data", {
      status: "in-use",
      claimName: "data.volume",
      attachments: [{ serverId: "uid-web", attachmentId: "x", attachedAt: "T0" }],
    });
    const [only] = volumeAttachments({ volume: attached, servers: [{ server: server("web", ["data"]), vm, vmi: undefined }], now: "T1" });
    expect(only?.attachedAt).toBe("T0");
    expect(only?.device).toBeUndefined();
  });
  it("attachment ids are stable and UUID-shaped", () => {
    expect(attachmentId("a", "b")).toBe(attachmentId("a", "b"));
    expect(attachmentId("a", "b")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe("volumesDeletedWith", () => {
  it("only the volumes marked deleteOnTermination", () => {
    const s = server("web", []);
    s.spec.volumes = [{ volumeRef: "keep" }, { volumeRef: "scratch", deleteOnTermination: true }, { volumeRef: "keep2", deleteOnTermination: false }];
    expect(volumesDeletedWith(s)).toEqual(["scratch"]);
    expect(volumesDeletedWith(server("bare", []))).toEqual([]);
  });

  it.each<[string, NonNullable<Server["spec"]["bootVolume"]>, string[]]>([
    ["an existing boot volume marked deleteOnTermination", { volumeRef: "root", deleteOnTermination: true }, ["scratch", "root"]],
    ["an existing boot volume kept", { volumeRef: "root", deleteOnTermination: false }, ["scratch"]],
    ["the boot volume made from an image, marked deleteOnTermination", { imageRef: "cirros", size: 2, deleteOnTermination: true }, ["scratch", "web-boot"]],
    ["the boot volume made from an image, kept (Nova's default)", { imageRef: "cirros", size: 2 }, ["scratch"]],
  ])("boot volume: %s", (_name, bootVolume, expected) => {
    const s = server("web", []);
    s.spec = { flavorRef: "small", bootVolume, volumes: [{ volumeRef: "scratch", deleteOnTermination: true }] };
    expect(volumesDeletedWith(s)).toEqual(expected);
  });
});

describe("boot volumes", () => {
  const bfv = (bootVolume: NonNullable<Server["spec"]["bootVolume"]>, volumes: string[] = []): Server => {
    const s = server("web", volumes);
    s.spec = { flavorRef: "small", bootVolume, volumes: volumes.map((volumeRef) => ({ volumeRef })) };
    return s;
  };

  it.each<[string, Server, string | undefined, string[]]>([
    ["image-backed: none", server("web", ["data"]), undefined, ["data"]],
    ["an existing volume", bfv({ volumeRef: "root" }, ["data"]), "root", ["data", "root"]],
    ["made from an image: <server>-boot", bfv({ imageRef: "cirros" }), "web-boot", ["web-boot"]],
  ])("%s", (_name, s, boot, declared) => {
    expect(bootVolumeOf(s)).toBe(boot);
    expect(volumesOfServer(s)).toEqual(declared);
  });

  it("lists the boot volume first among Nova's block devices, as /dev/vda", () => {
    expect(blockDevicesOf(bfv({ volumeRef: "root", deleteOnTermination: true }, ["data"]))).toEqual([
      { volumeRef: "root", deleteOnTermination: true, device: "/dev/vda" },
      { volumeRef: "data" },
    ]);
  });

  it("names a long server's boot volume within object-name limits, stably", () => {
    const long = "s".repeat(253);
    expect(imageBootVolumeName(long).length).toBeLessThanOrEqual(253);
    expect(imageBootVolumeName(long)).toBe(imageBootVolumeName(long));
    expect(imageBootVolumeName(long)).toMatch(/-boot$/);
  });

  it("a single-attach boot volume belongs to its server: another server declaring it as data does not get it", () => {
    const booted = bfv({ volumeRef: "data" });
    booted.metadata.creationTimestamp = "2025-12-31T00:00:00Z";
    const other = server("other", ["data"]);
    const result = planServerVolumes({
      server: other,
      volume: (n) => VOLUMES[n],
      holders: () => [booted, other],
      currentVm: undefined,
      vmRunning: true,
    });
    expect(result.volumes).toEqual([]);
    expect(result.problems[0]).toMatch(/already attached to server web/);
  });
});

describe("attachProgress (Cinder's reserved, attaching, detaching)", () => {
  const vol = volume("data", { status: "available", claimName: "data.volume" });
  const hotplugged = vmWith([{ name: "vol-data", persistentVolumeClaim: { claimName: "data.volume", hotpluggable: true } }]);
  const plain = vmWith([{ name: "vol-data", persistentVolumeClaim: { claimName: "data.volume" } }]);
  const running = (phase?: string): VirtualMachineInstance => ({
    metadata: { name: "web" },
    spec: { domain: { devices: {} } },
    status: { phase: "Running", volumeStatus: phase === undefined ? [] : [{ name: "vol-data", target: "sda", phase }] },
  });
  const web = server("web", ["data"]);
  const other = server("other", ["data"], "2026-01-02T00:00:00Z");

  it.each<[string, AttachProgressCase, Partial<ReturnType<typeof attachProgress>>]>([
    ["declared, no VM carries it yet: reserved for its first holder", { servers: [{ server: web, vm: undefined, vmi: undefined }] }, { attachments: 0, reserved: true }],
    ["hot-plugged, the guest has not reported it", { servers: [{ server: web, vm: hotplugged, vmi: running() }] }, { attachments: 1, attaching: 1, reserved: false }],
    ["hot-plugged and reported Ready", { servers: [{ server: web, vm: hotplugged, vmi: running("Ready") }] }, { attachments: 1, attaching: 0 }],
    ["a plain disk of a stopped VM: attached", { servers: [{ server: web, vm: plain, vmi: undefined }] }, { attachments: 1, attaching: 0 }],
    [
      "a second server waiting for a single-attach volume held by the first: not reserved for it",
      { servers: [{ server: web, vm: plain, vmi: undefined }, { server: other, vm: undefined, vmi: undefined }] },
      { attachments: 1, reserved: false },
    ],
    ["a guest still has it after its VM let go: detaching", { servers: [], lingeringVmis: 1 }, { attachments: 0, detaching: true, reserved: false }],
  ])("%s", (_name, c, expected) => {
    expect(attachProgress({ volume: vol, now: "t", lingeringVmis: 0, ...c })).toMatchObject(expected);
  });

  it("a volume without a claim is never reserved", () => {
    const young = volume("data", { status: "creating" });
    expect(attachProgress({ volume: young, now: "t", lingeringVmis: 0, servers: [{ server: web, vm: undefined, vmi: undefined }] }).reserved).toBe(false);
  });
});

type AttachProgressCase = Partial<Parameters<typeof attachProgress>[0]> & { servers: Parameters<typeof attachProgress>[0]["servers"] };
