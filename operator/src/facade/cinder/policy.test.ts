import { describe, expect, it } from "vitest";
import { snapshotCreateRefusal } from "./policy.js";

describe("snapshotCreateRefusal (Cinder's 400 on a volume in the wrong status)", () => {
  it.each<[string, boolean, string | undefined]>([
    ["available", false, undefined],
    ["available", true, undefined],
    ["in-use", true, undefined],
    ["in-use", false, "Invalid volume: Volume v-1 status must be available, but current status is: in-use. Pass force to snapshot an attached volume."],
    ["reserved", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: reserved."],
    ["attaching", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: attaching."],
    ["detaching", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: detaching."],
    ["detaching", false, "Invalid volume: Volume v-1 status must be available, but current status is: detaching."],
    ["creating", false, "Invalid volume: Volume v-1 status must be available, but current status is: creating."],
    ["creating", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: creating."],
    ["downloading", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: downloading."],
    ["extending", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: extending."],
    ["error", true, "Invalid volume: Volume v-1 status must be available or in-use, but current status is: error."],
  ])("%s (force %s)", (status, force, expected) => {
    expect(snapshotCreateRefusal("v-1", status, force)).toBe(expected);
  });
});
