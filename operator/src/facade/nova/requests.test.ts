import { describe, expect, it } from "vitest";
import { ApiError } from "../common/errors.js";
import {
  consoleProtocolFor,
  instanceName,
  legacyConsoleRequest,
  planServerAction,
  planServerCreate,
  serverCreateSchema,
  type ActionContext,
  type CreateResolver,
} from "./requests.js";

const resolver = (overrides: Partial<CreateResolver> = {}): CreateResolver => ({
  flavor: (id) => ({ "f-1": "m1.small" })[id],
  image: (id) => ({ "i-1": "cirros", "i-pub": "shared-project/ubuntu" })[id],
  keypair: (name) => ({ mykey: "mykey" })[name],
  network: (id) => ({ "n-1": "net1", "n-shared": "other/public" })[id],
  port: (id) => ({ "p-1": "port1" })[id],
  securityGroup: (name) => ({ default: "default", web: "web-x1" })[name],
  volume: (id) => ({ "v-1": "data", "v-boot": "root" })[id],
  autoNetworks: () => ["net1"],
  availabilityZones: () => ["nova", "zone-b"],
  ...overrides,
});

const plan = (server: Record<string, unknown>, r = resolver()) =>
  planServerCreate(serverCreateSchema.parse({ server: { name: "web", flavorRef: "f-1", ...server } }), r);

const fails = (fn: () => unknown, status = 400): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(status);
    return (e as ApiError).message;
  }
  throw new Error("did not fail");
};

describe("server create → Server spec", () => {
  it("boots from an image with networks, key, groups, metadata and user data", () => {
    const result = plan({
      imageRef: "i-1",
      networks: [{ uuid: "n-1", fixed_ip: "10.0.0.9" }, { port: "p-1" }, { uuid: "n-shared" }],
      key_name: "mykey",
      security_groups: [{ name: "web" }, { name: "web" }],
      metadata: { role: "frontend" },
      user_data: "I2Nsb3VkLWNvbmZpZwo=",
      availability_zone: "zone-b",
      description: "d",
      tags: ["a", "a"],
    });
    expect(result.spec).toEqual({
      flavorRef: "m1.small",
      imageRef: "cirros",
      networks: [{ networkRef: "net1", fixedIP: "10.0.0.9" }, { portRef: "port1" }, { networkRef: "other/public" }],
      keypairRef: "mykey",
      securityGroupRefs: ["web-x1"],
      metadata: { role: "frontend" },
      userDataBase64: "I2Nsb3VkLWNvbmZpZwo=",
      availabilityZone: "zone-b",
      description: "d",
      tags: ["a"],
    });
    expect(result).toMatchObject({ baseName: "web", min: 1, max: 1 });
  });

  it("accepts image and flavor URLs, string counts and explicit nulls", () => {
    const result = plan({ imageRef: "http://cloud/images/i-1", flavorRef: "http://cloud/flavors/f-1", min_count: "2", max_count: 3, key_name: null, networks: null });
    expect(result.spec).toMatchObject({ flavorRef: "m1.small", imageRef: "cirros", networks: [{ networkRef: "net1" }] });
    expect(result).toMatchObject({ min: 2, max: 3 });
  });

  it("boots from an existing volume or a new one made from an image; attaches further volumes", () => {
    expect(plan({ block_device_mapping_v2: [{ boot_index: 0, uuid: "v-boot", source_type: "volume", destination_type: "volume", delete_on_termination: true }] }).spec).toMatchObject({
      bootVolume: { volumeRef: "root", deleteOnTermination: true },
    });
    const fromImage = plan({
      imageRef: "",
      block_device_mapping_v2: [
        { boot_index: "0", uuid: "i-1", source_type: "image", destination_type: "volume", volume_size: 10 },
        { uuid: "v-1", source_type: "volume", destination_type: "volume", device_name: "/dev/vdb" },
      ],
    });
    expect(fromImage.spec).toMatchObject({ bootVolume: { imageRef: "cirros", size: 10, deleteOnTermination: false }, volumes: [{ volumeRef: "data", device: "/dev/vdb", deleteOnTermination: false }] });
    expect(fromImage.spec.imageRef).toBeUndefined();
  });

  it("understands networks none and auto", () => {
    expect(plan({ imageRef: "i-1", networks: "none" }).spec.networks).toEqual([]);
    expect(plan({ imageRef: "i-1", networks: "auto" }).spec.networks).toEqual([{ networkRef: "net1" }]);
    expect(fails(() => plan({ imageRef: "i-1", networks: "auto" }, resolver({ autoNetworks: () => [] })))).toContain("Unable to automatically allocate");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["unknown flavor", { imageRef: "i-1", flavorRef: "nope" }, "Flavor nope could not be found."],
    ["unknown image", { imageRef: "i-x" }, "Image i-x could not be found."],
    ["no image and no boot volume", {}, "Missing imageRef"],
    ["unknown key", { imageRef: "i-1", key_name: "other" }, "Invalid key_name provided."],
    ["bad user data", { imageRef: "i-1", user_data: "not base64!" }, "User data needs to be valid base 64."],
    ["unknown network", { imageRef: "i-1", networks: [{ uuid: "n-x" }] }, "Network n-x could not be found."],
    ["unknown group", { imageRef: "i-1", security_groups: [{ name: "x" }] }, "Security group x not found"],
    ["unknown zone", { imageRef: "i-1", availability_zone: "mars" }, "availability zone is not available"],
    ["min above max", { imageRef: "i-1", min_count: 3, max_count: 2 }, "min_count must be <= max_count"],
    ["image boot volume without size", { block_device_mapping_v2: [{ boot_index: 0, uuid: "i-1", source_type: "image", destination_type: "volume" }] }, "needs volume_size"],
    ["blank extra device", { imageRef: "i-1", block_device_mapping_v2: [{ source_type: "blank", destination_type: "volume", volume_size: 1 }] }, "not supported"],
    ["legacy mapping", { imageRef: "i-1", block_device_mapping: [{}] }, "legacy block_device_mapping"],
  ];
  for (const [name, body, message] of invalid) {
    it(`400: ${name}`, () => {
      expect(fails(() => plan(body))).toContain(message);
    });
  }

  it("names several servers name-1, name-2 …", () => {
    expect([0, 1].map((i) => instanceName("web", i, 2))).toEqual(["web-1", "web-2"]);
    expect(instanceName("web", 0, 1)).toBe("web");
  });
});

describe("server actions", () => {
  const ctx = (status: string, locked = false): ActionContext => ({
    serverId: "s-1",
    status,
    vmState: status.toLowerCase(),
    locked,
    flavor: (id) => ({ "f-2": "m1.large" })[id],
    image: (id) => ({ "i-1": "cirros" })[id],
  });

  it("turns power actions into spec changes and the rest into ServerActions", () => {
    expect(planServerAction({ "os-stop": null }, ctx("ACTIVE")).effect).toEqual({ kind: "spec", patch: { powerState: "Shutoff" } });
    expect(planServerAction({ "os-start": null }, ctx("SHUTOFF")).effect).toEqual({ kind: "spec", patch: { powerState: "Active" } });
    expect(planServerAction({ pause: null }, ctx("ACTIVE")).effect).toEqual({ kind: "spec", patch: { powerState: "Paused" } });
    expect(planServerAction({ shelve: null }, ctx("SHUTOFF")).effect).toEqual({ kind: "spec", patch: { powerState: "Shelved" } });
    expect(planServerAction({ lock: { locked_reason: "maintenance" } }, ctx("ACTIVE")).effect).toEqual({ kind: "spec", patch: { locked: true, lockedReason: "maintenance" } });
    expect(planServerAction({ reboot: { type: "hard" } }, ctx("SHUTOFF")).effect).toEqual({ kind: "action", spec: { action: "reboot", type: "HARD" } });
    expect(planServerAction({ resize: { flavorRef: "f-2" } }, ctx("ACTIVE")).effect).toEqual({ kind: "action", spec: { action: "resize", flavorRef: "m1.large" } });
    expect(planServerAction({ confirmResize: null }, ctx("VERIFY_RESIZE")).effect).toEqual({ kind: "action", spec: { action: "confirmResize" } });
    expect(planServerAction({ rebuild: { imageRef: "i-1" } }, ctx("ACTIVE")).effect).toEqual({ kind: "action", spec: { action: "rebuild", imageRef: "cirros" } });
    expect(planServerAction({ "os-migrateLive": { host: null, block_migration: "auto" } }, ctx("ACTIVE")).effect).toEqual({ kind: "action", spec: { action: "liveMigrate" } });
    expect(planServerAction({ createImage: { name: "snap", metadata: { a: "b" } } }, ctx("SHUTOFF")).effect).toEqual({
      kind: "action",
      spec: { action: "createImage", imageName: "snap", imageMetadata: { a: "b" } },
    });
    expect(planServerAction({ addSecurityGroup: { name: "web" } }, ctx("ACTIVE")).effect).toEqual({ kind: "addSecurityGroup", group: "web" });
  });

  it("refuses actions in the wrong state with 409, as Nova's state checks do", () => {
    expect(fails(() => planServerAction({ "os-start": null }, ctx("ACTIVE")), 409)).toContain("Cannot 'os-start' instance s-1 while it is in vm_state active");
    expect(fails(() => planServerAction({ reboot: { type: "SOFT" } }, ctx("SHUTOFF")), 409)).toContain("reboot");
    expect(fails(() => planServerAction({ confirmResize: null }, ctx("ACTIVE")), 409)).toContain("confirmResize");
    expect(fails(() => planServerAction({ "os-stop": null }, ctx("BUILD")), 409)).toContain("BUILD");
  });

  it("refuses everything but unlock on a locked server", () => {
    expect(fails(() => planServerAction({ "os-stop": null }, ctx("ACTIVE", true)), 409)).toBe("Instance s-1 is locked");
    expect(planServerAction({ unlock: null }, ctx("ACTIVE", true)).effect).toEqual({ kind: "spec", patch: { locked: false, lockedReason: null } });
  });

  it("refuses malformed bodies with 400", () => {
    expect(fails(() => planServerAction({}, ctx("ACTIVE")))).toContain("Exactly one action");
    expect(fails(() => planServerAction({ a: 1, b: 2 }, ctx("ACTIVE")))).toContain("Exactly one action");
    expect(fails(() => planServerAction({ fly: null }, ctx("ACTIVE")))).toBe("There is no such action: fly");
    expect(fails(() => planServerAction({ reboot: { type: "GENTLE" } }, ctx("ACTIVE")))).toContain("reboot.type");
    expect(fails(() => planServerAction({ resize: { flavorRef: "f-x" } }, ctx("ACTIVE")))).toBe("Flavor f-x could not be found.");
    expect(fails(() => planServerAction([], ctx("ACTIVE")))).toContain("JSON object");
  });
});

describe("remote console requests", () => {
  it.each([
    ["vnc", "novnc", "vnc"],
    ["serial", "serial", "serial"],
  ])("%s/%s is the %s console", (protocol, type, console) => {
    expect(consoleProtocolFor(protocol, type)).toBe(console);
  });

  it.each([
    ["vnc", "serial", "Invalid console type serial"],
    ["spice", "spice-html5", "Unavailable console type spice-html5."],
    ["rdp", "rdp-html5", "Unavailable console type rdp-html5."],
    ["vnc", "xvpvnc", "Unavailable console type xvpvnc."],
  ])("%s/%s is Nova's 400: %s", (protocol, type, message) => {
    expect(() => consoleProtocolFor(protocol, type)).toThrow(expect.objectContaining({ status: 400, message }) as unknown);
  });

  it("reads the legacy actions and leaves every other action alone", () => {
    expect(legacyConsoleRequest({ "os-getVNCConsole": { type: "novnc" } })).toEqual({ protocol: "vnc", type: "novnc" });
    expect(legacyConsoleRequest({ "os-getSerialConsole": { type: "serial" } })).toEqual({ protocol: "serial", type: "serial" });
    expect(legacyConsoleRequest({ reboot: { type: "SOFT" } })).toBeUndefined();
    expect(legacyConsoleRequest(null)).toBeUndefined();
    expect(() => legacyConsoleRequest({ "os-getVNCConsole": {} })).toThrow(ApiError);
  });
});
