import { describe, expect, it } from "vitest";
import type { Allocation, AllocationHolder } from "../../api/index.js";
import { KubeApiError, type KubeObject } from "../../kube/index.js";
import { Index } from "../network/sources.js";
import { allocationName, claim, ensureSlots, release, segmentValue, type ArbiterClient, type SlotRequest } from "./arbiter.js";

/** The apiserver's semantics that matter here: POST fails with AlreadyExists, DELETE honours a uid precondition. */
class MemoryApi {
  readonly objects = new Map<string, Allocation>();
  private uid = 0;
  creates = 0;

  client: ArbiterClient = {
    create: <T extends KubeObject>(_rt: unknown, obj: T) => {
      this.creates++;
      const name = obj.metadata.name ?? "";
      if (this.objects.has(name)) {
        return Promise.reject(new KubeApiError({ statusCode: 409, reason: "AlreadyExists", message: `${name} already exists` }));
      }
      const stored = { ...(obj as unknown as Allocation), metadata: { ...obj.metadata, uid: `u${++this.uid}` } } as Allocation;
      this.objects.set(name, stored);
      return Promise.resolve(stored as unknown as T);
    },
    get: <T extends KubeObject>(_rt: unknown, name: string) => Promise.resolve(this.objects.get(name) as unknown as T | undefined),
    delete: (_rt: unknown, name: string, _ns?: string, opts?: { preconditions?: { uid?: string } }) => {
      const existing = this.objects.get(name);
      if (existing === undefined) return Promise.resolve(false);
      if (opts?.preconditions?.uid !== undefined && opts.preconditions.uid !== existing.metadata.uid) {
        return Promise.reject(new KubeApiError({ statusCode: 409, reason: "Conflict", message: "Precondition failed" }));
      }
      this.objects.delete(name);
      return Promise.resolve(true);
    },
    list: () => Promise.resolve({ items: [], resourceVersion: "1" }),
  };

  /** A cache view of the store (optionally missing some names, as a lagging cache would). */
  cache(hidden: ReadonlySet<string> = new Set()) {
    const visible = () => [...this.objects.values()].filter((a) => !hidden.has(a.metadata.name ?? ""));
    return {
      get: (name: string) => visible().find((a) => a.metadata.name === name),
      byIndex: (index: string, value: string) =>
        visible().filter((a) =>
          index === Index.allocationsByHolder ? a.spec.holder.uid === value : `${a.spec.type}/${a.spec.pool}` === value,
        ),
    };
  }
}

const holder = (uid: string): AllocationHolder => ({ kind: "Port", namespace: "project-a", name: `port-${uid}`, uid });
const ipSlot = (over: Partial<SlotRequest> = {}): SlotRequest => ({
  key: "fixed:0",
  type: "ip",
  pools: ["subnet-1"],
  candidates: function* (taken) {
    for (const value of ["10.0.0.2", "10.0.0.3", "10.0.0.4"]) {
      if (!taken({ pool: "subnet-1", value })) yield { pool: "subnet-1", value };
    }
  },
  ...over,
});

describe("allocation names", () => {
  it.each([
    ["ip", "3f2a", "10.0.0.5", "ip-3f2a-0a000005"],
    ["ip", "3f2a", "fd00::1", "ip-3f2a-fd000000000000000000000000000001"],
    ["mac", "mac", "fa:16:3e:01:02:03", "mac-fa163e010203"],
    ["segment", "physnet1", segmentValue(1001), "vlan-physnet1-1001"],
    ["segment", "physnet1", segmentValue(undefined), "flat-physnet1"],
  ] as const)("%s %s %s → %s", (type, pool, value, expected) => {
    expect(allocationName(type, pool, value)).toBe(expected);
  });
});

describe("claim", () => {
  it("lets exactly one of two holders have a value, whatever the order", async () => {
    const api = new MemoryApi();
    const [a, b] = await Promise.all([
      claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("a"), "test"),
      claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("b"), "test"),
    ]);
    expect([a.claimed, b.claimed].filter(Boolean)).toHaveLength(1);
    const [winner, loser] = a.claimed ? ["a", b] : ["b", a];
    expect(loser.claimed ? undefined : loser.heldBy.uid).toBe(winner);
    expect(api.objects.get("ip-subnet-1-0a000002")?.spec.holder.uid).toBe(winner);
  });

  it("treats a value the holder already has as claimed (a retry after a crash)", async () => {
    const api = new MemoryApi();
    await claim(api.client, "mac", "mac", "fa:16:3e:00:00:01", holder("a"), "test");
    const again = await claim(api.client, "mac", "mac", "fa:16:3e:00:00:01", holder("a"), "test");
    expect(again.claimed).toBe(true);
    expect(api.objects.size).toBe(1);
  });

  it("release deletes only the allocation it saw, never a newer one with the same name", async () => {
    const api = new MemoryApi();
    const first = await claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("a"), "test");
    if (!first.claimed) throw new Error("expected a claim");
    await release(api.client, first.allocation);
    const second = await claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("b"), "test");
    await release(api.client, first.allocation); // stale: must not free b's address
    expect(second.claimed).toBe(true);
    expect(api.objects.get("ip-subnet-1-0a000002")?.spec.holder.uid).toBe("b");
  });
});

describe("ensureSlots", () => {
  it("takes the first free candidate and reports nothing surplus", async () => {
    const api = new MemoryApi();
    await claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("other"), "test");
    const { outcomes, surplus } = await ensureSlots({ client: api.client, allocations: api.cache(), fieldManager: "t" }, holder("a"), [ipSlot()]);
    expect(outcomes[0]).toMatchObject({ ok: true, value: "10.0.0.3" });
    expect(surplus).toEqual([]);
  });

  it("steps over values a lagging cache did not show, because the POST decides", async () => {
    const api = new MemoryApi();
    await claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("other"), "test");
    const lagging = api.cache(new Set(["ip-subnet-1-0a000002"]));
    const { outcomes } = await ensureSlots({ client: api.client, allocations: lagging, fieldManager: "t" }, holder("a"), [ipSlot()]);
    expect(outcomes[0]).toMatchObject({ ok: true, value: "10.0.0.3" });
  });

  it("keeps what the status names, and the lowest of values held twice is kept, the rest surplus", async () => {
    const api = new MemoryApi();
    // A concurrent reconcile of the same port left it two addresses for one slot.
    await claim(api.client, "ip", "subnet-1", "10.0.0.4", holder("a"), "test");
    await claim(api.client, "ip", "subnet-1", "10.0.0.3", holder("a"), "test");
    const deps = { client: api.client, allocations: api.cache(), fieldManager: "t" };
    const noStatus = await ensureSlots(deps, holder("a"), [ipSlot()]);
    expect(noStatus.outcomes[0]).toMatchObject({ ok: true, value: "10.0.0.3" });
    expect(noStatus.surplus.map((a) => a.spec.value)).toEqual(["10.0.0.4"]);
    // Once a status names 10.0.0.4, that one is kept and the other is surplus.
    const named = await ensureSlots(deps, holder("a"), [ipSlot({ current: { pool: "subnet-1", value: "10.0.0.4" } })]);
    expect(named.outcomes[0]).toMatchObject({ ok: true, value: "10.0.0.4" });
    expect(named.surplus.map((a) => a.spec.value)).toEqual(["10.0.0.3"]);
  });

  it("does not keep a value the status names when someone else holds it now", async () => {
    const api = new MemoryApi();
    await claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("other"), "test");
    const { outcomes } = await ensureSlots({ client: api.client, allocations: api.cache(), fieldManager: "t" }, holder("a"), [
      ipSlot({ current: { pool: "subnet-1", value: "10.0.0.2" } }),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: true, value: "10.0.0.3" });
  });

  it("reports a requested value held by another holder, naming the holder", async () => {
    const api = new MemoryApi();
    await claim(api.client, "ip", "subnet-1", "10.0.0.9", holder("other"), "test");
    const { outcomes } = await ensureSlots({ client: api.client, allocations: api.cache(), fieldManager: "t" }, holder("a"), [
      ipSlot({ requested: { pool: "subnet-1", value: "10.0.0.9" } }),
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, why: "taken", value: "10.0.0.9", heldBy: { uid: "other" } });
  });

  it("says exhausted when no candidate is left", async () => {
    const api = new MemoryApi();
    for (const v of ["10.0.0.2", "10.0.0.3", "10.0.0.4"]) await claim(api.client, "ip", "subnet-1", v, holder(v), "test");
    const { outcomes } = await ensureSlots({ client: api.client, allocations: api.cache(), fieldManager: "t" }, holder("a"), [ipSlot()]);
    expect(outcomes[0]).toEqual({ key: "fixed:0", ok: false, why: "exhausted" });
  });

  it("keepOnly keeps a held value but never claims a new one", async () => {
    const api = new MemoryApi();
    const deps = { client: api.client, allocations: api.cache(), fieldManager: "t" };
    const keep = ipSlot({ keepOnly: true, requested: { pool: "subnet-1", value: "10.0.0.2" }, current: { pool: "subnet-1", value: "10.0.0.2" } });
    expect((await ensureSlots(deps, holder("a"), [keep])).outcomes[0]).toMatchObject({ ok: false, why: "gone" });
    expect(api.creates).toBe(0);
    await claim(api.client, "ip", "subnet-1", "10.0.0.2", holder("a"), "test");
    expect((await ensureSlots(deps, holder("a"), [keep])).outcomes[0]).toMatchObject({ ok: true, value: "10.0.0.2" });
  });

  it("gives up a round (to retry with a fresher view) after too many lost races", async () => {
    const api = new MemoryApi();
    for (const v of ["10.0.0.2", "10.0.0.3", "10.0.0.4"]) await claim(api.client, "ip", "subnet-1", v, holder(v), "test");
    const blind = api.cache(new Set([...api.objects.keys()]));
    await expect(
      ensureSlots({ client: api.client, allocations: blind, fieldManager: "t" }, holder("a"), [ipSlot({ maxConflicts: 2 })]),
    ).rejects.toThrow(/lost 2 allocation races/);
  });
});
