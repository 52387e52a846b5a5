import { describe, expect, it } from "vitest";
import { exportStatus, parseExportPath, tokenMatches, tokenOfRequest, type VMExport } from "./export-state.js";

const exp = (kind = "PersistentVolumeClaim"): VMExport => ({
  apiVersion: "export.kubevirt.io/v1beta1",
  kind: "VirtualMachineExport",
  metadata: { name: "img-download-1", namespace: "project-a" },
  spec: { source: { apiGroup: "", kind, name: "img.image" }, tokenSecretRef: "img-download-1-token" },
});
const now = "2026-01-01T00:00:00Z";

describe("exportStatus", () => {
  it("is Ready with raw and gzip links to the volume when the PVC exists", () => {
    const status = exportStatus({ exportObject: exp(), claimExists: true, baseUrl: "https://127.0.0.1:9", caPem: "PEM", now });
    expect(status).toMatchObject({ phase: "Ready", tokenSecretRef: "img-download-1-token", serviceName: "virt-export-img-download-1" });
    expect(status.links?.internal).toEqual({
      cert: "PEM",
      volumes: [
        {
          name: "img.image",
          formats: [
            { format: "raw", url: "https://127.0.0.1:9/export/project-a/img-download-1/volumes/img.image/disk.img" },
            { format: "gzip", url: "https://127.0.0.1:9/export/project-a/img-download-1/volumes/img.image/disk.img.gz" },
          ],
        },
      ],
    });
    expect(status.conditions).toEqual([{ type: "Ready", status: "True", reason: "PodReady", message: "", lastTransitionTime: now }]);
  });

  it.each([
    ["PVC missing", exp(), false, "PVCNotFound"],
    ["a VM source (not simulated)", exp("VirtualMachine"), true, "UnsupportedSource"],
  ])("is Pending without links: %s", (_name, exportObject, claimExists, reason) => {
    const status = exportStatus({ exportObject, claimExists, baseUrl: "https://x", caPem: "PEM", now });
    expect(status.phase).toBe("Pending");
    expect(status.links).toBeUndefined();
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "False", reason });
  });
});

describe("export server paths and tokens", () => {
  it("parses the export paths and nothing else", () => {
    expect(parseExportPath("/export/project-a/e1/volumes/img.image/disk.img?x=1")).toEqual({ namespace: "project-a", exportName: "e1", volume: "img.image", format: "raw" });
    expect(parseExportPath("/export/project-a/e1/volumes/img.image/disk.img.gz")?.format).toBe("gzip");
    expect(parseExportPath("/export/project-a/e1/volumes/img.image/disk.tar.gz")).toBeUndefined();
    expect(parseExportPath("/v1beta1/upload")).toBeUndefined();
  });
  it("takes the token from the header, else the query", () => {
    expect(tokenOfRequest("/export/a/b/volumes/c/disk.img", "h")).toBe("h");
    expect(tokenOfRequest("/export/a/b/volumes/c/disk.img?x-kubevirt-export-token=q", undefined)).toBe("q");
    expect(tokenOfRequest("/export/a/b/volumes/c/disk.img", undefined)).toBeUndefined();
  });
  it("accepts only the exact token, and nobody when the export has none", () => {
    expect(tokenMatches("abc", "abc")).toBe(true);
    expect(tokenMatches("abc", "abd")).toBe(false);
    expect(tokenMatches("abc", "ab")).toBe(false);
    expect(tokenMatches(undefined, "abc")).toBe(false);
    expect(tokenMatches("", "")).toBe(false);
  });
});
