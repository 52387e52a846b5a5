// Lease-based leader election, as client-go's leaderelection: take the Lease when it is free or its
// holder stopped renewing, renew every retry period, give up when renewal fails for the renew
// deadline, and release on shutdown so a standby takes over at once. All writes are
// compare-and-swap on resourceVersion, so two replicas can never both believe they hold it.
import type { Logger } from "pino";
import type { KubeClient } from "./client.js";
import { isAlreadyExists, isConflict } from "./errors.js";
import type { OperatorMetrics } from "./metrics.js";
import { Builtin, type KubeObject } from "./resources.js";
import { formatMicroTime, sleep, systemClock, systemTimers, type Clock, type Timers } from "./time.js";

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

export interface LeaderElectorOptions {
  client: Pick<KubeClient, "get" | "create" | "replace">;
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  logger: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  timers?: Timers;
  metrics?: OperatorMetrics;
}

export interface LeaderCallbacks {
  /** Called on becoming leader; `signal` aborts when leadership ends. A returned promise is awaited on shutdown. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when leadership ends (lost or released), before the lease is released. */
  onStoppedLeading(): void | Promise<void>;
}

/** What we last saw of the lease, and when (our clock) we saw it change. */
interface Observation {
  lease: Lease;
  holder: string;
  renewTime: string;
  observedAt: number;
}

export class LeaderElector {
  private readonly client: LeaderElectorOptions["client"];
  private readonly namespace: string;
  private readonly name: string;
  readonly identity: string;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly metrics: OperatorMetrics | undefined;
  private observed: Observation | undefined;
  private leading = false;

  constructor(opts: LeaderElectorOptions) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.clock = opts.clock ?? systemClock;
    this.timers = opts.timers ?? systemTimers;
    this.metrics = opts.metrics;
    if (opts.identity === "") throw new Error("leader election needs a non-empty identity");
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error("leader election needs leaseDuration > renewDeadline > retryPeriod");
    }
    this.metrics?.leader.set({ identity: this.identity }, 0);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leader, leads until the lease is lost or `signal` aborts, then returns.
   * On abort while leading, waits for the callbacks to finish and releases the lease.
   * Does not campaign again after losing the lease: a replica that lost it should restart clean.
   */
  async run(callbacks: LeaderCallbacks, signal?: AbortSignal): Promise<void> {
    const acquired = await this.acquire(signal);
    if (!acquired) return;
    this.setLeading(true);
    const leadership = new AbortController();
    let leadingWork: Promise<void> = Promise.resolve();
    try {
      leadingWork = Promise.resolve(callbacks.onStartedLeading(leadership.signal));
    } catch (e) {
      leadingWork = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    leadingWork = leadingWork.catch((e: unknown) => {
      this.log.error({ err: e }, "onStartedLeading failed");
    });

    const lost = await this.renewUntilLostOrStopped(signal);
    this.setLeading(false);
    leadership.abort();
    try {
      await callbacks.onStoppedLeading();
    } catch (e) {
      this.log.error({ err: e }, "onStoppedLeading failed");
    }
    await leadingWork;
    if (lost) {
      this.log.warn("lost the leader lease");
    } else {
      await this.release();
    }
  }

  /** Retries every retry period until the lease is ours; false if stopped first. */
  private async acquire(signal: AbortSignal | undefined): Promise<boolean> {
    this.log.info("campaigning for the leader lease");
    for (;;) {
      if (signal?.aborted === true) return false;
      if (await this.tryAcquireOrRenew(this.renewDeadlineMs)) {
        this.log.info("became leader");
        return true;
      }
      if (!(await sleep(this.retryPeriodMs, this.timers, signal))) return false;
    }
  }

  /** True when leadership was lost, false when stopped by the signal. */
  private async renewUntilLostOrStopped(signal: AbortSignal | undefined): Promise<boolean> {
    let lastRenew = this.clock.now();
    for (;;) {
      if (!(await sleep(this.retryPeriodMs, this.timers, signal))) return false;
      // An attempt may not outlive the deadline, or a hung request would keep us "leading" past expiry.
      const remaining = this.renewDeadlineMs - (this.clock.now() - lastRenew);
      if (remaining > 0 && (await this.tryAcquireOrRenew(remaining))) {
        lastRenew = this.clock.now();
        continue;
      }
      // Another holder took over (only possible if our lease expired): leadership is gone now.
      if (this.observed !== undefined && this.observed.holder !== this.identity && this.observed.holder !== "") {
        return true;
      }
      if (this.clock.now() - lastRenew >= this.renewDeadlineMs) return true;
    }
  }

  /** One compare-and-swap attempt to take or renew the lease, abandoned after `timeoutMs`. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const attempt = new AbortController();
    const timer = this.timers.setTimeout(() => {
      attempt.abort();
    }, timeoutMs);
    try {
      return await this.attempt(attempt.signal);
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  private async attempt(signal: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    const nowText = formatMicroTime(now);
    try {
      const current = await this.client.get<Lease>(Builtin.Lease, this.name, this.namespace, { signal });
      if (current === undefined) {
        const created = await this.client.create<Lease>(
          Builtin.Lease,
          {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.name, namespace: this.namespace },
          spec: {
            holderIdentity: this.identity,
            leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
            acquireTime: nowText,
            renewTime: nowText,
            leaseTransitions: 0,
          },
        },
        { signal },
      );
        this.observe(created, now);
        return true;
      }
      this.observe(current, now);
      const holder = current.spec?.holderIdentity ?? "";
      const iHold = holder === this.identity;
      if (!iHold && holder !== "" && !this.expired(current, now)) return false;

      const spec = current.spec ?? {};
      const updated = await this.client.replace<Lease>(Builtin.Lease, {
        ...current,
        spec: {
          ...spec,
          holderIdentity: this.identity,
          leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
          renewTime: nowText,
          acquireTime: iHold ? (spec.acquireTime ?? nowText) : nowText,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (iHold ? 0 : 1),
        },
      }, { signal });
      this.observe(updated, now);
      return true;
    } catch (e) {
      if (isConflict(e) || isAlreadyExists(e)) {
        this.log.debug("lease changed concurrently; will retry");
      } else {
        this.log.warn({ err: e }, "leader lease request failed");
      }
      return false;
    }
  }

  /**
   * Expiry is judged by our own clock from when we saw the record last change, not by the holder's
   * renewTime, so clock skew between replicas cannot cause two leaders.
   */
  private expired(lease: Lease, now: number): boolean {
    const observed = this.observed;
    if (observed === undefined || observed.lease.metadata.uid !== lease.metadata.uid) return false;
    const seconds = lease.spec?.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000);
    return now >= observed.observedAt + seconds * 1000;
  }

  private observe(lease: Lease, now: number): void {
    const holder = lease.spec?.holderIdentity ?? "";
    const renewTime = lease.spec?.renewTime ?? "";
    const previous = this.observed;
    const unchanged =
      previous !== undefined &&
      previous.lease.metadata.uid === lease.metadata.uid &&
      previous.holder === holder &&
      previous.renewTime === renewTime;
    this.observed = { lease, holder, renewTime, observedAt: unchanged ? previous.observedAt : now };
  }

  /** Gives the lease up so a standby can take it without waiting for expiry. */
  private async release(): Promise<void> {
    const lease = this.observed?.lease;
    if (lease === undefined || (lease.spec?.holderIdentity ?? "") !== this.identity) return;
    try {
      const now = formatMicroTime(this.clock.now());
      await this.client.replace<Lease>(Builtin.Lease, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      this.log.info("released the leader lease");
    } catch (e) {
      // Someone else may already hold it (our lease expired); either way it is no longer ours.
      this.log.warn({ err: e }, "could not release the leader lease");
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.metrics?.leader.set({ identity: this.identity }, leading ? 1 : 0);
  }
}
