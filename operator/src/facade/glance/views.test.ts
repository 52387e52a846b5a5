import { describe, expect, it } from "vitest";
import { API_VERSION, type Image } from "../../api/index.js";
import { imageView } from "./views.js";

const image = (spec: Partial<Image["spec"]>, status?: Image["status"]): Image => ({
  apiVersion: API_VERSION,
  kind: "Image",
  metadata: { name: "cirros", uid: "i-1", namespace: "project-demo", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: { source: { upload: {} }, ...spec },
  ...(status === undefined ? {} : { status }),
});

describe("Glance image view", () => {
  it("starts queued for uploads and importing for URLs, with Glance's defaults", () => {
    expect(imageView(image({}), "p")).toMatchObject({ status: "queued", visibility: "shared", protected: false, os_hidden: false, min_disk: 0, checksum: null, size: null, owner: "p", self: "/v2/images/i-1", file: "/v2/images/i-1/file", schema: "/v2/schemas/image" });
    expect(imageView(image({ source: { http: { url: "http://x/y" } } }), "p").status).toBe("importing");
  });

  it("flattens extra properties and reports what the image controller found", () => {
    const view = imageView(image({ properties: { hw_firmware_type: "uefi", os_hidden: "true" }, tags: ["a"] }, { status: "active", size: 1024, checksum: "abc" }), "p");
    expect(view).toMatchObject({ hw_firmware_type: "uefi", os_hidden: true, tags: ["a"], status: "active", size: 1024, checksum: "abc" });
  });
});
