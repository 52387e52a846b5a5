import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { downloadLength, exportFault, exportLinkOf, exportNotReadyReason, exportTokenSecret, imageBytes, imageExport } from "./download.js";

function source(chunks: Buffer[]): Readable & { destroyedEarly: () => boolean } {
  let i = 0;
  const stream = new Readable({
    read() {
      this.push(i < chunks.length ? chunks[i++] : null);
    },
  });
  return Object.assign(stream, { destroyedEarly: () => stream.destroyed && i < chunks.length });
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

describe("imageExport / exportTokenSecret", () => {
  it("exports the image's PVC under a per-download name, with a token Secret owned by the export", () => {
    const exp = imageExport({ imageName: "cirros", namespace: "project-demo", claimName: "cirros.image", suffix: "ab12cd34" });
    expect(exp.apiVersion).toBe("export.kubevirt.io/v1beta1");
    expect(exp.metadata).toMatchObject({ name: "cirros-download-ab12cd34", namespace: "project-demo" });
    expect(exp.spec).toEqual({ source: { apiGroup: "", kind: "PersistentVolumeClaim", name: "cirros.image" }, tokenSecretRef: "cirros-download-ab12cd34-token", ttlDuration: "1h" });
    const secret = exportTokenSecret({ ...exp, metadata: { ...exp.metadata, uid: "u-1" } }, "s3cret");
    expect(secret.metadata).toMatchObject({
      name: "cirros-download-ab12cd34-token",
      namespace: "project-demo",
      ownerReferences: [{ apiVersion: "export.kubevirt.io/v1beta1", kind: "VirtualMachineExport", name: "cirros-download-ab12cd34", uid: "u-1" }],
    });
    expect(Buffer.from(secret.data.token ?? "", "base64").toString()).toBe("s3cret");
  });

  it("keeps names short enough for the export's Service (virt-export-<name>)", () => {
    const exp = imageExport({ imageName: `${"a".repeat(32)}-${"b".repeat(200)}`, namespace: "p", claimName: "c", suffix: "12345678" });
    expect(exp.metadata.name).toBe(`${"a".repeat(32)}-download-12345678`);
    expect(`virt-export-${exp.metadata.name ?? ""}`.length).toBeLessThanOrEqual(63);
  });
});

describe("exportLinkOf", () => {
  const status = (formats: { format: string; url: string }[], cert = "PEM") => ({ phase: "Ready", links: { internal: { cert, volumes: [{ name: "img", formats }] } } });
  it.each([
    ["raw preferred", [{ format: "gzip", url: "https://x/disk.img.gz" }, { format: "raw", url: "https://x/disk.img" }], { url: "https://x/disk.img", ca: "PEM", gzip: false }],
    ["gzip when no raw", [{ format: "gzip", url: "https://x/disk.img.gz" }, { format: "tar.gz", url: "https://x/disk.tar.gz" }], { url: "https://x/disk.img.gz", ca: "PEM", gzip: true }],
    ["nothing streamable (dir, tar.gz)", [{ format: "dir", url: "https://x/dir" }, { format: "tar.gz", url: "https://x/disk.tar.gz" }], undefined],
  ])("%s", (_name, formats, expected) => {
    expect(exportLinkOf(status(formats), "img")).toEqual(expected);
  });
  it("no links (not Ready) → nothing", () => {
    expect(exportLinkOf({ phase: "Pending" }, "img")).toBeUndefined();
    expect(exportLinkOf(undefined, "img")).toBeUndefined();
  });
  it("system CAs when the export carries no cert", () => {
    expect(exportLinkOf(status([{ format: "raw", url: "https://x/disk.img" }], ""), "img")?.ca).toBeUndefined();
  });
});

describe("faults", () => {
  it("maps the export server's refusals to Glance's answers", () => {
    expect(exportFault(404, "no data for PVC", "id-1")).toMatchObject({ status: 404, message: "The data of image id-1 could not be found in the image store (no data for PVC)." });
    expect(exportFault(401, "bad token", "id-1").status).toBe(503);
    expect(exportFault(500, "boom", "id-1").status).toBe(503);
  });
  it("says why an export is not ready", () => {
    expect(exportNotReadyReason({ phase: "Pending", conditions: [{ type: "Ready", status: "False", reason: "PVCNotFound", message: "pvc x not found" }] })).toBe(
      "phase Pending (PVCNotFound: pvc x not found)",
    );
    expect(exportNotReadyReason(undefined)).toBe("phase none yet");
  });
});

describe("imageBytes / downloadLength", () => {
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  const parts = (b: Buffer) => [b.subarray(0, 3000), b.subarray(3000, 7000), b.subarray(7000)];

  it("passes raw bytes through unchanged", async () => {
    expect((await collect(imageBytes(source(parts(data)), false, undefined))).equals(data)).toBe(true);
  });

  it("decompresses the gzip form", async () => {
    const out = await collect(imageBytes(source(parts(gzipSync(data))), true, data.length));
    expect(createHash("md5").update(out).digest("hex")).toBe(createHash("md5").update(data).digest("hex"));
  });

  it("cuts a padded volume at the image's size and stops reading it", async () => {
    // 4 MiB of padding, far beyond what a stream reads ahead: reading stops well before it.
    const padded = source([...parts(data), ...Array.from({ length: 1024 }, () => Buffer.alloc(4096))]);
    const out = await collect(imageBytes(padded, false, 5000));
    expect(out.equals(data.subarray(0, 5000))).toBe(true);
    expect(padded.destroyedEarly()).toBe(true);
  });

  it("fails when the store sends less than the image's size", async () => {
    await expect(collect(imageBytes(source(parts(data)), false, data.length + 1))).rejects.toThrow(/sent 10000 bytes of 10001/);
  });

  it.each([
    ["size known, raw longer (padded volume)", 100, { "content-length": "4096" }, false, 100],
    ["size known, no length", 100, {}, false, 100],
    ["size unknown, raw length", undefined, { "content-length": "4096" }, false, 4096],
    ["size unknown, gzip", undefined, { "content-length": "77" }, true, undefined],
    ["size known, gzip", 100, { "content-length": "77" }, true, 100],
  ])("Content-Length: %s", (_name, size, headers, gzip, expected) => {
    expect(downloadLength(size, { headers }, gzip)).toBe(expected);
  });
});
