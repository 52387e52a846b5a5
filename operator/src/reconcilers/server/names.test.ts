import { describe, expect, it } from "vitest";
import { boundedLabel, imageVolumeName, labelValue, nextRootDiskName, rootDiskName, vmNameOf } from "./names.js";

describe("generated names", () => {
  it("keeps a valid label and hashes anything else into one, stably", () => {
    expect(vmNameOf("web-1")).toBe("web-1");
    const long = `db.${"x".repeat(80)}`;
    expect(vmNameOf(long)).toMatch(/^db-x+-[0-9a-f]{10}$/);
    expect(vmNameOf(long).length).toBeLessThanOrEqual(63);
    expect(vmNameOf(long)).toBe(vmNameOf(long));
    expect(vmNameOf(`${long}y`)).not.toBe(vmNameOf(long));
    expect(boundedLabel("...")).toMatch(/^x[0-9a-f]{10}$/);
    expect(labelValue("My Group")).toMatch(/^my-group-[0-9a-f]{10}$/);
    expect(labelValue("db_group.1")).toBe("db_group.1");
  });

  it("numbers root disks across rebuilds", () => {
    expect(rootDiskName("vm")).toBe("vm-root");
    expect(nextRootDiskName("vm", "vm-root")).toBe("vm-root-1");
    expect(nextRootDiskName("vm", "vm-root-9")).toBe("vm-root-10");
  });

  it("gives image volumes a dot, which no server disk name has", () => {
    expect(imageVolumeName("cirros")).toBe("cirros.image");
    expect(imageVolumeName("x".repeat(250))).toMatch(/\.image$/);
    expect(imageVolumeName("x".repeat(250)).length).toBeLessThanOrEqual(253);
  });
});
