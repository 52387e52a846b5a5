import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { KubeApiError } from "./errors.js";
import { LeaderElector, type Lease } from "./leader.js";
import { silentLogger } from "./log.js";
import { createOperatorMetrics } from "./metrics.js";
import type { KubeObject, ResourceType } from "./resources.js";
import { ManualTimers, flush } from "./testing.js";

/** One Lease with apiserver semantics: create fails if it exists, replace is a compare-and-swap. */
class LeaseStore {
  lease: Lease | undefined;
  private version = 0;
  readonly down = new Set<string>();
  writes = 0;

  clientFor(who: string) {
    const check = () => {
      if (this.down.has(who)) throw new Error(`${who}: connection refused`);
    };
    return {
      get: <T extends KubeObject>(_rt: ResourceType, _name: string): Promise<T | undefined> => {
        check();
        return Promise.resolve(this.lease === undefined ? undefined : (structuredClone(this.lease) as unknown as T));
      },
      create: <T extends KubeObject>(_rt: ResourceType, obj: T): Promise<T> => {
        check();
        if (this.lease !== undefined) {
          return Promise.reject(new KubeApiError({ statusCode: 409, reason: "AlreadyExists", message: "exists" }));
        }
        return Promise.resolve(this.store(obj, "uid-lease"));
      },
      replace: <T extends KubeObject>(_rt: ResourceType, obj: T): Promise<T> => {
        check();
        if (obj.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
          return Promise.reject(new KubeApiError({ statusCode: 409, reason: "Conflict", message: "the object has been modified" }));
        }
        return Promise.resolve(this.store(obj, this.lease?.metadata.uid ?? ""));
      },
    };
  }

  /** Someone outside the test's electors writes the lease. */
  set(spec: Lease["spec"]): void {
    if (this.lease === undefined) throw new Error("no lease");
    this.store({ ...this.lease, spec }, this.lease.metadata.uid ?? "");
  }

  private store<T extends KubeObject>(obj: T, uid: string): T {
    this.writes++;
    this.version++;
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, uid, resourceVersion: String(this.version) } };
    this.lease = stored;
    return structuredClone(stored);
  }
}

function elector(store: LeaseStore, timers: ManualTimers, identity: string, registry?: Registry) {
  const log: string[] = [];
  const elector = new LeaderElector({
    client: store.clientFor(identity),
    namespace: "altostack-system",
    name: "altostack-operator",
    identity,
    logger: silentLogger(),
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock: timers,
    timers,
    ...(registry === undefined ? {} : { metrics: createOperatorMetrics(registry) }),
  });
  const stop = new AbortController();
  let signalOfTerm: AbortSignal | undefined;
  let finished = false;
  const done = elector
    .run(
      {
        onStartedLeading: (signal) => {
          signalOfTerm = signal;
          log.push("started");
        },
        onStoppedLeading: () => {
          log.push("stopped");
        },
      },
      stop.signal,
    )
    .then(() => {
      finished = true;
    });
  return {
    elector,
    log,
    stop,
    done,
    isFinished: () => finished,
    termSignal: () => signalOfTerm,
  };
}

/** Advance time in small steps so every elector gets its turns, flushing async work in between. */
async function advance(timers: ManualTimers, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    timers.advance(Math.min(step, ms - t));
    await flush(3);
  }
}

describe("LeaderElector", () => {
  it("acquires a missing lease by creating it", async () => {
    const store = new LeaseStore();
    const timers = new ManualTimers(Date.parse("2025-01-01T00:00:00Z"));
    const registry = new Registry();
    const a = elector(store, timers, "a", registry);
    await flush();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log).toEqual(["started"]);
    expect(store.lease?.spec).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: "2025-01-01T00:00:00.000000Z",
      renewTime: "2025-01-01T00:00:00.000000Z",
      leaseTransitions: 0,
    });
    expect(store.lease?.metadata).toMatchObject({ name: "altostack-operator", namespace: "altostack-system" });
    expect(await registry.getSingleMetricAsString("altostack_leader")).toContain('altostack_leader{identity="a"} 1');
    a.stop.abort();
    await a.done;
  });

  it("renews every retry period while leading; a second replica stays standby", async () => {
    const store = new LeaseStore();
    const timers = new ManualTimers();
    const a = elector(store, timers, "a");
    await flush();
    const b = elector(store, timers, "b");
    await advance(timers, 30_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(store.lease?.spec?.holderIdentity).toBe("a");
    expect(store.lease?.spec?.renewTime).toBe(new Date(30_000).toISOString().replace(".000Z", ".000000Z"));
    expect(store.lease?.spec?.acquireTime).toBe(new Date(0).toISOString().replace(".000Z", ".000000Z"));
    expect(store.lease?.spec?.leaseTransitions).toBe(0);
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.done, b.done]);
  });

  it("a standby takes over once the holder has stopped renewing for the lease duration", async () => {
    const store = new LeaseStore();
    const timers = new ManualTimers();
    const a = elector(store, timers, "a");
    await flush();
    const b = elector(store, timers, "b");
    await advance(timers, 4_000);

    // a loses its connection: it gives up after the renew deadline, without releasing.
    store.down.add("a");
    const cutAt = timers.now();
    await advance(timers, 10_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual(["started", "stopped"]);
    expect(a.termSignal()?.aborted).toBe(true);
    expect(a.isFinished()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);

    // b counts the lease duration from when it last saw the record change (a's last renewal).
    await advance(timers, 15_000 - (timers.now() - cutAt) - 2_000);
    expect(b.elector.isLeader()).toBe(false);
    await advance(timers, 4_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    b.stop.abort();
    await b.done;
  });

  it("releases on shutdown so a standby takes over at once", async () => {
    const store = new LeaseStore();
    const timers = new ManualTimers();
    const a = elector(store, timers, "a");
    await flush();
    const b = elector(store, timers, "b");
    await advance(timers, 2_000);

    a.stop.abort();
    await a.done;
    expect(a.log).toEqual(["started", "stopped"]);
    expect(store.lease?.spec?.holderIdentity).toBe("");
    await advance(timers, 2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    b.stop.abort();
    await b.done;
    expect(store.lease?.spec?.holderIdentity).toBe("");
  });

  it("steps down when it finds someone else holding the lease", async () => {
    const store = new LeaseStore();
    const timers = new ManualTimers();
    const a = elector(store, timers, "a");
    await flush();
    store.set({ ...store.lease?.spec, holderIdentity: "intruder" });
    await advance(timers, 2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual(["started", "stopped"]);
    await a.done;
    // It did not release what it no longer holds.
    expect(store.lease?.spec?.holderIdentity).toBe("intruder");
  });

  it("stopping while campaigning returns without leading", async () => {
    const store = new LeaseStore();
    const timers = new ManualTimers();
    const a = elector(store, timers, "a");
    await flush();
    const b = elector(store, timers, "b");
    await advance(timers, 2_000);
    b.stop.abort();
    await b.done;
    expect(b.log).toEqual([]);
    a.stop.abort();
    await a.done;
  });

  it("rejects inconsistent timings", () => {
    const store = new LeaseStore();
    expect(
      () =>
        new LeaderElector({
          client: store.clientFor("a"),
          namespace: "n",
          name: "l",
          identity: "a",
          logger: silentLogger(),
          leaseDurationMs: 5_000,
          renewDeadlineMs: 10_000,
        }),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });
});
