// Pure: Nova's cores and ram quotas. Instances are counted by the project's ResourceQuota at create time;
// cores and RAM depend on flavors, which the apiserver cannot see, so servers are admitted here before
// anything is created for them.
import type { FlavorSnapshot } from "../../api/index.js";

export interface Usage {
  cores: number;
  ram: number;
}

export const NO_USAGE: Usage = { cores: 0, ram: 0 };

/** What a server holds: its flavor, or during a resize the larger of old and new (a revert needs the old back). */
export function usageOf(flavor: FlavorSnapshot | undefined, resizeFrom?: FlavorSnapshot): Usage {
  if (flavor === undefined) return NO_USAGE;
  if (resizeFrom === undefined) return { cores: flavor.vcpus, ram: flavor.ram };
  return { cores: Math.max(flavor.vcpus, resizeFrom.vcpus), ram: Math.max(flavor.ram, resizeFrom.ram) };
}

export function sumUsage(usages: Iterable<Usage>): Usage {
  let cores = 0;
  let ram = 0;
  for (const u of usages) {
    cores += u.cores;
    ram += u.ram;
  }
  return { cores, ram };
}

export interface QuotaLimits {
  /** -1 or undefined: unlimited. */
  cores: number | undefined;
  ram: number | undefined;
}

export interface QuotaExceeded {
  resource: "cores" | "ram";
  message: string;
}

/**
 * Whether `requested` more fits next to `used`, in Nova's words when it does not:
 * "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores".
 */
export function checkQuota(limits: QuotaLimits, used: Usage, requested: Usage): QuotaExceeded | undefined {
  for (const resource of ["cores", "ram"] as const) {
    const limit = limits[resource];
    const want = requested[resource];
    if (limit === undefined || limit < 0 || want <= 0) continue;
    if (used[resource] + want > limit) {
      return {
        resource,
        message: `Quota exceeded for ${resource}: Requested ${want}, but already used ${used[resource]} of ${limit} ${resource}`,
      };
    }
  }
  return undefined;
}

/** A resize asks only for what it adds. */
export function resizeDelta(from: FlavorSnapshot, to: FlavorSnapshot): Usage {
  return { cores: Math.max(0, to.vcpus - from.vcpus), ram: Math.max(0, to.ram - from.ram) };
}

/**
 * Admissions this process made that the server cache may not show yet (status written, watch event not
 * arrived), so two servers admitted back to back cannot both take the last cores. Keyed by namespace,
 * then server uid.
 */
export class AdmissionLedger {
  private readonly byNamespace = new Map<string, Map<string, Usage>>();
  private readonly locks = new Map<string, Promise<void>>();

  record(namespace: string, uid: string, usage: Usage): void {
    const entries = this.byNamespace.get(namespace) ?? new Map<string, Usage>();
    entries.set(uid, usage);
    this.byNamespace.set(namespace, entries);
  }

  forget(namespace: string, uid: string): void {
    this.byNamespace.get(namespace)?.delete(uid);
  }

  /** Usage in the namespace: the cache's view, completed by this process's own recent admissions. */
  used(namespace: string, fromCache: ReadonlyMap<string, Usage>, exceptUid: string): Usage {
    const merged = new Map(fromCache);
    for (const [uid, usage] of this.byNamespace.get(namespace) ?? []) if (!merged.has(uid)) merged.set(uid, usage);
    merged.delete(exceptUid);
    return sumUsage(merged.values());
  }

  /** Runs `fn` alone among admissions of the same namespace (workers reconcile servers in parallel). */
  async exclusive<T>(namespace: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(namespace) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = previous.then(() => current);
    this.locks.set(namespace, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(namespace) === chained) this.locks.delete(namespace);
    }
  }
}
