import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./queue.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Resolves to the key if get() is already settled, else "pending". */
async function peek(p: Promise<string | undefined>): Promise<string | undefined> {
  return Promise.race([p, Promise.resolve("pending")]);
}

describe("WorkQueue", () => {
  it("does not duplicate a key that is already queued", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.length).toBe(0);
  });

  it("never hands out a key that is being processed; re-adds it once after done", async () => {
    const q = new WorkQueue();
    q.add("a");
    const first = await q.get();
    expect(first).toBe("a");
    q.add("a");
    q.add("a");
    expect(q.length).toBe(0);
    const second = q.get();
    expect(await peek(second)).toBe("pending");
    q.done("a");
    expect(await second).toBe("a");
    q.done("a");
    expect(q.length).toBe(0);
    expect(await peek(q.get())).toBe("pending");
  });

  it("a key finished without re-adds is not queued again", async () => {
    const q = new WorkQueue();
    q.add("a");
    await q.get();
    q.done("a");
    expect(q.length).toBe(0);
  });

  it("hands keys to waiting workers in order", async () => {
    const q = new WorkQueue();
    const w1 = q.get();
    const w2 = q.get();
    q.add("x");
    q.add("y");
    expect(await w1).toBe("x");
    expect(await w2).toBe("y");
  });

  it("addAfter makes the key available only after the delay; the earlier time wins", async () => {
    const q = new WorkQueue();
    q.addAfter("a", 1_000);
    q.addAfter("a", 5_000);
    q.addAfter("b", 2_000);
    q.addAfter("b", 500);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(499);
    expect(q.length).toBe(0);
    vi.advanceTimersByTime(1);
    expect(await q.get()).toBe("b");
    vi.advanceTimersByTime(500);
    expect(await q.get()).toBe("a");
    vi.advanceTimersByTime(10_000);
    expect(q.length).toBe(0);
  });

  it("addAfter with no delay adds at once", () => {
    const q = new WorkQueue();
    q.addAfter("a", 0);
    expect(q.length).toBe(1);
  });

  it("addRateLimited backs off exponentially per key up to the cap, and forget resets it", () => {
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 300_000 });
    const expected = [5, 10, 20, 40, 80, 160, 320, 640, 1_280, 2_560, 5_120, 10_240, 20_480, 40_960, 81_920, 163_840, 300_000, 300_000];
    for (const [i, delay] of expected.entries()) {
      expect(q.numRequeues("k")).toBe(i);
      q.addRateLimited("k");
      vi.advanceTimersByTime(delay - 1);
      expect(q.length, `attempt ${i} must wait ${delay} ms`).toBe(0);
      vi.advanceTimersByTime(1);
      expect(q.length).toBe(1);
      // Take it out again so the next attempt starts from an empty queue.
      void q.get();
      q.done("k");
    }
    // Other keys have their own backoff.
    q.addRateLimited("other");
    vi.advanceTimersByTime(5);
    expect(q.length).toBe(1);

    q.forget("k");
    expect(q.numRequeues("k")).toBe(0);
    q.addRateLimited("k");
    vi.advanceTimersByTime(5);
    expect(q.length).toBe(2);
  });

  it("shutdown wakes idle workers, ignores new adds, cancels delays and waits for work in progress", async () => {
    const q = new WorkQueue();
    q.add("busy");
    expect(await q.get()).toBe("busy");
    const idle = q.get();
    q.addAfter("later", 1_000);

    let drained = false;
    const shutdown = q.shutdown().then(() => {
      drained = true;
    });
    expect(await idle).toBeUndefined();
    q.add("new");
    vi.advanceTimersByTime(5_000);
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();

    await Promise.resolve();
    expect(drained).toBe(false);
    q.done("busy");
    await shutdown;
    expect(drained).toBe(true);
  });

  it("shutdown drops keys that were queued but not started", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    await q.shutdown();
    expect(q.length).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it("shutdown with nothing in progress resolves at once", async () => {
    await expect(new WorkQueue().shutdown()).resolves.toBeUndefined();
  });

  it("reports depth and retries to its metrics hooks", async () => {
    const depths: number[] = [];
    let retries = 0;
    const q = new WorkQueue({
      metrics: {
        depth: (n) => depths.push(n),
        retry: () => {
          retries++;
        },
      },
    });
    q.add("a");
    q.add("b");
    await q.get();
    q.addRateLimited("c");
    expect(depths).toEqual([1, 2, 1]);
    expect(retries).toBe(1);
  });
});
