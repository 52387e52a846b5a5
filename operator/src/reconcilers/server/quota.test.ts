import { describe, expect, it } from "vitest";
import { AdmissionLedger, checkQuota, resizeDelta, usageOf } from "./quota.js";

const SMALL = { name: "small", vcpus: 1, ram: 512, disk: 1 };
const LARGE = { name: "large", vcpus: 4, ram: 8192, disk: 80 };

describe("cores and ram quotas", () => {
  it.each([
    ["fits", { cores: 20, ram: 51200 }, { cores: 16, ram: 1024 }, { cores: 4, ram: 1024 }, undefined],
    ["cores over, in Nova's words", { cores: 20, ram: 51200 }, { cores: 18, ram: 0 }, { cores: 4, ram: 512 }, "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores"],
    ["ram over", { cores: 20, ram: 4096 }, { cores: 0, ram: 4000 }, { cores: 1, ram: 512 }, "Quota exceeded for ram: Requested 512, but already used 4000 of 4096 ram"],
    ["-1 is unlimited", { cores: -1, ram: -1 }, { cores: 1000, ram: 1_000_000 }, { cores: 8, ram: 8192 }, undefined],
    ["no project quota", { cores: undefined, ram: undefined }, { cores: 1000, ram: 0 }, { cores: 8, ram: 1 }, undefined],
    ["nothing requested always fits", { cores: 1, ram: 1 }, { cores: 5, ram: 5 }, { cores: 0, ram: 0 }, undefined],
  ])("%s", (_name, limits, used, requested, message) => {
    expect(checkQuota(limits, used, requested)?.message).toBe(message);
  });

  it("counts a resize as the larger of both flavors, and asks only for the difference", () => {
    expect(usageOf(LARGE, SMALL)).toEqual({ cores: 4, ram: 8192 });
    expect(usageOf(SMALL, LARGE)).toEqual({ cores: 4, ram: 8192 });
    expect(resizeDelta(SMALL, LARGE)).toEqual({ cores: 3, ram: 7680 });
    expect(resizeDelta(LARGE, SMALL)).toEqual({ cores: 0, ram: 0 });
  });
});

describe("admission ledger", () => {
  it("adds admissions the cache does not show yet, never twice, and never the server asking", () => {
    const ledger = new AdmissionLedger();
    ledger.record("ns", "ns/a", { cores: 2, ram: 100 });
    ledger.record("ns", "ns/b", { cores: 3, ram: 100 });
    ledger.record("other", "other/x", { cores: 50, ram: 100 });
    const cache = new Map([["ns/a", { cores: 2, ram: 100 }]]);
    expect(ledger.used("ns", cache, "ns/c")).toEqual({ cores: 5, ram: 200 });
    expect(ledger.used("ns", cache, "ns/b")).toEqual({ cores: 2, ram: 100 });
    ledger.forget("ns", "ns/b");
    expect(ledger.used("ns", new Map(), "ns/c")).toEqual({ cores: 2, ram: 100 });
  });

  it("runs admissions of one namespace one at a time", async () => {
    const ledger = new AdmissionLedger();
    const order: string[] = [];
    const slow = ledger.exclusive("ns", async () => {
      order.push("a-start");
      await new Promise((r) => setTimeout(r, 20));
      order.push("a-end");
    });
    const fast = ledger.exclusive("ns", () => {
      order.push("b");
      return Promise.resolve();
    });
    const elsewhere = ledger.exclusive("other", () => {
      order.push("other");
      return Promise.resolve();
    });
    await Promise.all([slow, fast, elsewhere]);
    expect(order.indexOf("b")).toBeGreaterThan(order.indexOf("a-end"));
    expect(order.indexOf("other")).toBeLessThan(order.indexOf("a-end"));
  });
});
