import { describe, expect, it } from "vitest";
import { afterDelay, PhaseTimeline } from "./timeline.js";
import { conditionOf, hasCondition, toCondition } from "./upstream-conditions.js";
import { T0 } from "./fixtures.js";

describe("PhaseTimeline", () => {
  it("remembers when a phase was entered, per object incarnation", () => {
    const timeline = new PhaseTimeline();
    expect(timeline.enteredAt("ns/a", "u1", "Pending", 100)).toBe(100);
    expect(timeline.enteredAt("ns/a", "u1", "Pending", 500)).toBe(100);
    expect(timeline.enteredAt("ns/a", "u1", "Running", 600)).toBe(600);
    // A re-created namesake starts over.
    expect(timeline.enteredAt("ns/a", "u2", "Running", 700)).toBe(700);
    timeline.mark("ns/a", "u2", "Succeeded", 800);
    expect(timeline.enteredAt("ns/a", "u2", "Succeeded", 900)).toBe(800);
    timeline.forget("ns/a");
    expect(timeline.size).toBe(0);
  });

  it("advances after the delay, otherwise says how long to wait", () => {
    expect(afterDelay("B", 1000, 200, 1100)).toEqual({ kind: "wait", waitMs: 100 });
    expect(afterDelay("B", 1000, 200, 1200)).toEqual({ kind: "advance", to: "B" });
    expect(afterDelay("B", 1000, 0, 1000)).toEqual({ kind: "advance", to: "B" });
  });
});

describe("upstream conditions", () => {
  it("keeps the transition time while the status holds, and moves it when it flips", () => {
    const first = toCondition(undefined, { type: "Ready", status: "False", reason: "A" }, T0, "probe");
    expect(first).toEqual({ type: "Ready", status: "False", reason: "A", lastTransitionTime: "2026-01-01T00:00:00Z", lastProbeTime: null });
    const same = toCondition([first], { type: "Ready", status: "False", reason: "B" }, T0 + 60_000, "probe");
    expect(same.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    const flipped = toCondition([first], { type: "Ready", status: "True" }, T0 + 60_000, "probe");
    expect(flipped.lastTransitionTime).toBe("2026-01-01T00:01:00Z");
  });

  it("moves CDI's heartbeat on any change but not on a repeat", () => {
    const first = toCondition(undefined, { type: "Running", status: "True", reason: "Pod is running" }, T0, "heartbeat");
    expect(toCondition([first], { type: "Running", status: "True", reason: "Pod is running" }, T0 + 5000, "heartbeat")).toEqual(first);
    const changed = toCondition([first], { type: "Running", status: "True", reason: "Other" }, T0 + 5000, "heartbeat");
    expect(changed).toMatchObject({ lastTransitionTime: "2026-01-01T00:00:00Z", lastHeartbeatTime: "2026-01-01T00:00:00Z" });
  });

  it("finds conditions by type, status and reason", () => {
    const list = [{ type: "Bound", status: "True", reason: "Bound" }];
    expect(conditionOf(list, "Bound")?.status).toBe("True");
    expect(hasCondition(list, "Bound", "True", "Bound")).toBe(true);
    expect(hasCondition(list, "Bound", "True", "Other")).toBe(false);
    expect(hasCondition(undefined, "Bound", "True")).toBe(false);
  });
});
