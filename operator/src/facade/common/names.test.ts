import { describe, expect, it } from "vitest";
import { chooseObjectName, isDnsLabel, randomSuffix, slugOf, specNameOf } from "./names.js";

const fixed = (n: number) => Buffer.alloc(n, 1);

describe("object names for OpenStack names", () => {
  it("keeps a DNS label as it is when it is free", () => {
    expect(chooseObjectName("web-1", { fallback: "server" })).toEqual({ objectName: "web-1", specName: undefined });
  });

  it("slugs anything else and keeps the real name in spec.name", () => {
    expect(chooseObjectName("Web Server #1", { fallback: "server", random: fixed })).toEqual({ objectName: "web-server-1-bbbbb", specName: "Web Server #1" });
    expect(chooseObjectName("日本", { fallback: "server", random: fixed })).toEqual({ objectName: "server-bbbbb", specName: "日本" });
    expect(chooseObjectName("", { fallback: "port", random: fixed })).toEqual({ objectName: "port-bbbbb", specName: "" });
  });

  it("adds a suffix when the name is taken (OpenStack names repeat)", () => {
    expect(chooseObjectName("web", { fallback: "server", taken: (n) => n === "web", random: fixed })).toEqual({ objectName: "web-bbbbb", specName: "web" });
  });

  it("allows dots only where asked (flavor names)", () => {
    expect(chooseObjectName("m1.tiny", { fallback: "flavor", subdomain: true }).objectName).toBe("m1.tiny");
    expect(chooseObjectName("m1.tiny", { fallback: "flavor", random: fixed }).objectName).toBe("m1-tiny-bbbbb");
  });

  it("stays within the length limit", () => {
    const choice = chooseObjectName("x".repeat(100), { fallback: "server", maxLength: 50, random: fixed });
    expect(choice.objectName.length).toBeLessThanOrEqual(50);
    expect(isDnsLabel(choice.objectName)).toBe(true);
    expect(slugOf("--a--b--", 63)).toBe("a-b");
    expect(randomSuffix(8)).toMatch(/^[a-z0-9]{8}$/);
  });
});

describe("specNameOf", () => {
  it("sets spec.name only when the object's own name is not the OpenStack name", () => {
    expect(specNameOf({ objectName: "web-1", specName: undefined })).toEqual({});
    expect(specNameOf({ objectName: "web-server-1-bbbbb", specName: "Web Server #1" })).toEqual({ name: "Web Server #1" });
    expect(specNameOf({ objectName: "port-bbbbb", specName: "" })).toEqual({ name: "" });
  });
});
