import { describe, expect, it } from "vitest";
import { exponentialBackoff, formatMicroTime, formatTime, sleep } from "./time.js";
import { ManualTimers, flush } from "./testing.js";

describe("time helpers", () => {
  it("formats metav1.Time and MicroTime", () => {
    const t = Date.parse("2025-06-07T08:09:10.123Z");
    expect(formatTime(t)).toBe("2025-06-07T08:09:10Z");
    expect(formatMicroTime(t)).toBe("2025-06-07T08:09:10.123000Z");
  });

  it.each([
    [0, 5],
    [1, 10],
    [3, 40],
    [20, 1_000],
    [10_000, 1_000],
  ])("exponentialBackoff(attempt %i) = %i", (attempt, expected) => {
    expect(exponentialBackoff(attempt, 5, 1_000)).toBe(expected);
  });

  it("sleep resolves true after the time, false when aborted", async () => {
    const timers = new ManualTimers();
    let result: boolean | undefined;
    void sleep(100, timers).then((r) => (result = r));
    timers.advance(99);
    await flush(1);
    expect(result).toBeUndefined();
    timers.advance(1);
    await flush(1);
    expect(result).toBe(true);

    const controller = new AbortController();
    const aborted = sleep(100, timers, controller.signal);
    controller.abort();
    expect(await aborted).toBe(false);
    expect(timers.pendingDelays()).toEqual([]);
    expect(await sleep(100, timers, controller.signal)).toBe(false);
  });
});
