import { describe, expect, it } from "vitest";
import type { Flavor, Image, Keypair } from "../../api/index.js";
import { flavorFitsImage, resizeFault, resolveFlavor, resolveImage, resolveKeypair } from "./resolve.js";

const flavor = (spec: Partial<Flavor["spec"]> = {}): Flavor => ({
  apiVersion: "altostack.io/v1alpha1",
  kind: "Flavor",
  metadata: { name: "m1.small" },
  spec: { vcpus: 1, ram: 2048, disk: 20, ...spec },
});

function image(namespace: string, name: string, spec: Partial<Image["spec"]> = {}, status: Image["status"] = {}): Image {
  return {
    apiVersion: "altostack.io/v1alpha1",
    kind: "Image",
    metadata: { name, namespace, uid: `uid-${name}` },
    spec: { source: { http: { url: "http://x/y" } }, ...spec },
    status: { status: "active", dataSource: { name: `${name}.image`, namespace }, virtualSize: 2 * 1024 ** 3, ...status },
  };
}

describe("flavor references", () => {
  it.each([
    ["public", flavor(), "project-demo", true],
    ["private, project on the access list", flavor({ isPublic: false, projects: ["demo"] }), "project-demo", true],
    ["private, project not on it", flavor({ isPublic: false, projects: ["other"] }), "project-demo", false],
    ["missing", undefined, "project-demo", false],
  ])("%s", (_name, f, namespace, ok) => {
    const result = resolveFlavor("m1.small", namespace, f);
    expect(result.kind === "ok").toBe(ok);
    if (!ok) expect(result).toMatchObject({ kind: "fault", fault: { code: 400, message: "Flavor m1.small could not be found." } });
  });

  it("snapshots what a server keeps, leaving out empty parts", () => {
    expect(resolveFlavor("m1.small", "project-demo", flavor({ ephemeral: 0, extraSpecs: { "hw:cpu_policy": "dedicated" } }))).toEqual({
      kind: "ok",
      value: { name: "m1.small", vcpus: 1, ram: 2048, disk: 20, extraSpecs: { "hw:cpu_policy": "dedicated" } },
    });
  });
});

describe("image references", () => {
  const images = new Map<string, Image>([
    ["project-demo/own", image("project-demo", "own", { visibility: "private", properties: { hw_disk_bus: "scsi", description: "x" } })],
    ["project-lib/public", image("project-lib", "public", { visibility: "public" })],
    ["project-lib/community", image("project-lib", "community", { visibility: "community" })],
    ["project-lib/shared", image("project-lib", "shared", { visibility: "shared", members: [{ project: "demo" }] })],
    ["project-lib/rejected", image("project-lib", "rejected", { visibility: "shared", members: [{ project: "demo", status: "rejected" }] })],
    ["project-lib/private", image("project-lib", "private", { visibility: "private" })],
    ["project-demo/importing", image("project-demo", "importing", {}, { status: "importing", progress: "45.00%" })],
    ["project-demo/killed", image("project-demo", "killed", {}, { status: "killed", conditions: [{ type: "Ready", status: "False", reason: "ImportFailed", message: "no such host", lastTransitionTime: "" }] })],
  ]);
  const lookup = (ns: string, name: string) => images.get(`${ns}/${name}`);

  it.each([
    ["own private image", "own", "ok"],
    ["another project's public image", "lib/public", "ok"],
    ["another project's community image", "lib/community", "ok"],
    ["an image shared with the project", "lib/shared", "ok"],
    ["a share the project rejected", "lib/rejected", "fault"],
    ["another project's private image", "lib/private", "fault"],
    ["an image that does not exist", "lib/nothing", "fault"],
    ["an image still importing", "importing", "waiting"],
    ["a killed image", "killed", "fault"],
  ])("%s → %s", (_name, ref, kind) => {
    expect(resolveImage(ref, "project-demo", lookup).kind).toBe(kind);
  });

  it("does not tell a private image from a missing one", () => {
    const hidden = resolveImage("lib/private", "project-demo", lookup);
    const missing = resolveImage("lib/nothing", "project-demo", lookup);
    expect(hidden.kind === "fault" && hidden.fault.message).toBe("Image lib/private could not be found, or is not visible to this project.");
    expect(missing.kind === "fault" && missing.fault.message).toBe("Image lib/nothing could not be found, or is not visible to this project.");
  });

  it("says why a killed image cannot be used and how far an import is", () => {
    expect(resolveImage("killed", "project-demo", lookup)).toMatchObject({ kind: "fault", fault: { message: "Image killed is not active (killed): no such host" } });
    expect(resolveImage("importing", "project-demo", lookup)).toEqual({ kind: "waiting", message: "waiting for image importing to become active (importing 45.00%)" });
  });

  it("snapshots the image with its VM-shaping properties only", () => {
    expect(resolveImage("own", "project-demo", lookup)).toEqual({
      kind: "ok",
      value: { ref: "own", id: "uid-own", name: "own", namespace: "project-demo", dataSource: "own.image", diskFormat: "qcow2", sizeGiB: 2, properties: { hw_disk_bus: "scsi" } },
    });
  });
});

describe("keypairs", () => {
  const keypair = (status: Keypair["status"]): Keypair => ({
    apiVersion: "altostack.io/v1alpha1",
    kind: "Keypair",
    metadata: { name: "k", namespace: "ns" },
    spec: { publicKey: "ssh-ed25519 AAAA" },
    status,
  });
  it("resolves a checked key, waits for an unchecked one and refuses a missing or invalid one", () => {
    expect(resolveKeypair("k", keypair({ fingerprint: "aa" }))).toEqual({ kind: "ok", value: "ssh-ed25519 AAAA" });
    expect(resolveKeypair("k", keypair({})).kind).toBe("waiting");
    expect(resolveKeypair("k", undefined)).toMatchObject({ kind: "fault", fault: { message: "Invalid key_name provided: keypair k could not be found." } });
    const invalid = keypair({ conditions: [{ type: "Ready", status: "False", reason: "InvalidSpec", message: "bad key", lastTransitionTime: "" }] });
    expect(resolveKeypair("k", invalid)).toMatchObject({ kind: "fault", fault: { message: "Invalid key_name provided: keypair k: bad key" } });
  });
});

describe("flavor against image", () => {
  const small = { name: "s", vcpus: 1, ram: 512, disk: 1 };
  const img = { ref: "i", id: "i", name: "i", namespace: "ns", dataSource: "i.image", diskFormat: "qcow2" };
  it.each([
    ["fits", small, img, undefined, undefined],
    ["memory below minRam", small, img, 1024, /Flavor's memory is too small/],
    ["disk below minDisk", small, { ...img, minDisk: 5 }, undefined, /Flavor disk is 1073741824 bytes, minimum disk is 5368709120 bytes/],
    ["disk below the image's size", small, { ...img, sizeGiB: 2 }, undefined, /Flavor disk is 1073741824 bytes, image is 2147483648 bytes/],
    ["disk 0 takes the image's size", { ...small, disk: 0 }, { ...img, sizeGiB: 2 }, undefined, undefined],
    ["an ISO needs a blank disk", { ...small, disk: 0 }, { ...img, diskFormat: "iso" }, undefined, /booting an ISO image needs a blank root disk/],
  ])("%s", (_name, f, i, minRam, message) => {
    const fault = flavorFitsImage(f, i, minRam);
    if (message === undefined) expect(fault).toBeUndefined();
    else expect(fault?.message).toMatch(message);
  });

  it("refuses a resize to the same flavor or to a smaller disk", () => {
    expect(resizeFault(small, small)?.message).toBe("When resizing, instances must change flavor!");
    expect(resizeFault({ ...small, name: "b", disk: 10 }, small)?.message).toMatch(/Unable to resize disk down/);
    expect(resizeFault(small, { ...small, name: "b", disk: 10 })).toBeUndefined();
  });

  it.each<[string, boolean, RegExp | undefined]>([
    ["image-backed: a smaller flavor disk is refused", false, /Unable to resize disk down/],
    ["volume-backed: the flavor does not size the boot volume, so a smaller disk is fine (as Nova)", true, undefined],
  ])("%s", (_name, volumeBacked, message) => {
    const fault = resizeFault({ ...small, name: "big", disk: 20 }, { ...small, name: "tiny", disk: 1 }, { volumeBacked });
    if (message === undefined) expect(fault).toBeUndefined();
    else expect(fault?.message).toMatch(message);
    // Changing flavor is still required either way.
    expect(resizeFault(small, small, { volumeBacked })?.message).toBe("When resizing, instances must change flavor!");
  });
});
