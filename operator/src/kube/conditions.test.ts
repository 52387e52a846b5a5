import { describe, expect, it } from "vitest";
import {
  conditionsEqual,
  getCondition,
  isFalse,
  isTrue,
  removeCondition,
  setCondition,
  statusChanged,
  type Condition,
  withReady,
} from "./conditions.js";

const T0 = Date.parse("2025-01-01T00:00:00.123Z");
const T1 = Date.parse("2025-01-01T00:05:00.999Z");

const ready = (status: Condition["status"], reason = "Reconciled", message = "", observedGeneration?: number) => ({
  type: "Ready",
  status,
  reason,
  message,
  ...(observedGeneration === undefined ? {} : { observedGeneration }),
});

describe("setCondition", () => {
  it("adds a new condition with the transition time at seconds precision", () => {
    const result = setCondition(undefined, ready("True", "Reconciled", "ok", 3), T0);
    expect(result).toEqual([
      { type: "Ready", status: "True", reason: "Reconciled", message: "ok", observedGeneration: 3, lastTransitionTime: "2025-01-01T00:00:00Z" },
    ]);
  });

  it.each([
    { from: "True", to: "True", changes: false },
    { from: "True", to: "False", changes: true },
    { from: "False", to: "Unknown", changes: true },
    { from: "Unknown", to: "Unknown", changes: false },
  ] as const)("$from → $to: transition time changes = $changes", ({ from, to, changes }) => {
    const before = setCondition(undefined, ready(from), T0);
    const after = setCondition(before, ready(to, "Other", "new message", 2), new Date(T1));
    expect(after[0]?.lastTransitionTime).toBe(changes ? "2025-01-01T00:05:00Z" : "2025-01-01T00:00:00Z");
    // Everything else always follows the update.
    expect(after[0]).toMatchObject({ status: to, reason: "Other", message: "new message", observedGeneration: 2 });
  });

  it("keeps positions stable, appends new types, and never mutates its input", () => {
    const start = setCondition(setCondition(undefined, ready("True"), T0), { type: "Deleting", status: "False", reason: "No", message: "" }, T0);
    const frozen = structuredClone(start);
    const next = setCondition(start, ready("False", "Broken"), T1);
    expect(next.map((c) => c.type)).toEqual(["Ready", "Deleting"]);
    expect(start).toEqual(frozen);
    expect(next).not.toBe(start);
    const more = setCondition(next, { type: "Degraded", status: "True", reason: "X", message: "" }, T1);
    expect(more.map((c) => c.type)).toEqual(["Ready", "Deleting", "Degraded"]);
  });

  it("updates observedGeneration without a transition", () => {
    const before = setCondition(undefined, ready("True", "Reconciled", "", 1), T0);
    const after = setCondition(before, ready("True", "Reconciled", "", 2), T1);
    expect(after[0]?.observedGeneration).toBe(2);
    expect(after[0]?.lastTransitionTime).toBe(before[0]?.lastTransitionTime);
  });
});

describe("reading conditions", () => {
  const list = setCondition(setCondition(undefined, ready("True"), T0), { type: "Deleting", status: "False", reason: "No", message: "" }, T0);

  it("getCondition / isTrue / isFalse", () => {
    expect(getCondition(list, "Ready")?.status).toBe("True");
    expect(getCondition(list, "Nope")).toBeUndefined();
    expect(isTrue(list, "Ready")).toBe(true);
    expect(isTrue(list, "Deleting")).toBe(false);
    expect(isFalse(list, "Deleting")).toBe(true);
    expect(isTrue(undefined, "Ready")).toBe(false);
  });

  it("removeCondition", () => {
    expect(removeCondition(list, "Ready").map((c) => c.type)).toEqual(["Deleting"]);
  });
});

describe("conditionsEqual", () => {
  const a = setCondition(setCondition(undefined, ready("True"), T0), { type: "Deleting", status: "False", reason: "No", message: "" }, T0);
  const reversed = [...a].reverse();

  it.each([
    ["same order", a, a, true],
    ["reversed order", a, reversed, true],
    ["both empty", undefined, [], true],
    ["different length", a, a.slice(0, 1), false],
    ["different status", a, setCondition(a, ready("False"), T0), false],
    ["different message", a, setCondition(a, ready("True", "Reconciled", "changed"), T0), false],
    ["different observedGeneration", a, setCondition(a, ready("True", "Reconciled", "", 5), T0), false],
  ] as const)("%s → %s", (_name, left, right, equal) => {
    expect(conditionsEqual(left, right)).toBe(equal);
  });
});

describe("statusChanged", () => {
  const conditions = setCondition(setCondition(undefined, ready("True"), T0), { type: "B", status: "True", reason: "R", message: "" }, T0);

  it.each([
    ["identical", { phase: "Active", conditions }, { phase: "Active", conditions }, false],
    ["conditions reordered", { conditions }, { conditions: [...conditions].reverse() }, false],
    ["undefined members are absent", { phase: "Active", extra: undefined }, { phase: "Active" }, false],
    ["no status vs empty status", undefined, {}, false],
    ["nested change", { addresses: [{ ip: "10.0.0.1" }] }, { addresses: [{ ip: "10.0.0.2" }] }, true],
    ["array order matters elsewhere", { ips: ["a", "b"] }, { ips: ["b", "a"] }, true],
    ["field added", { phase: "Active" }, { phase: "Active", usage: { cpu: "1" } }, true],
    ["condition changed", { conditions }, { conditions: setCondition(conditions, ready("False"), T1) }, true],
    ["number vs string", { n: 1 }, { n: "1" }, true],
  ] as const)("%s", (_name, before, after, changed) => {
    expect(statusChanged(before, after)).toBe(changed);
    expect(statusChanged(after, before)).toBe(changed);
  });
});

describe("withReady", () => {
  it("stamps the generation on the status and the Ready condition, keeping the transition time unless it flips", () => {
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const first = withReady({ metadata: { generation: 3 } }, { size: 1 }, { status: "True", reason: "Ok", message: "" }, t0);
    expect(first).toMatchObject({ size: 1, observedGeneration: 3 });
    expect(first.conditions).toEqual([
      { type: "Ready", status: "True", reason: "Ok", message: "", observedGeneration: 3, lastTransitionTime: "2026-01-01T00:00:00Z" },
    ]);
    const obj = { metadata: { generation: 4 }, status: first };
    const same = withReady(obj, {}, { status: "True", reason: "Ok", message: "still" }, t0 + 60_000);
    expect(same.conditions[0]?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    const flipped = withReady(obj, {}, { status: "False", reason: "Broken", message: "x" }, t0 + 60_000);
    expect(flipped.conditions[0]?.lastTransitionTime).toBe("2026-01-01T00:01:00Z");
    expect(flipped.observedGeneration).toBe(4);
  });
});
