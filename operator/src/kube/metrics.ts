// Operator metrics on a registry the caller owns (never prom-client's global one), created once per
// registry and shared by every controller, queue and elector.
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from "prom-client";
import type { QueueMetrics } from "./queue.js";

export const ReconcileResult = {
  Success: "success",
  Requeue: "requeue",
  Error: "error",
} as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileDuration: Histogram<"controller">;
  readonly reconcileErrors: Counter<"controller">;
  readonly workqueueDepth: Gauge<"controller">;
  readonly workqueueRetries: Counter<"controller">;
  readonly leader: Gauge<"identity">;
}

export interface OperatorMetricsOptions {
  /** Also export prom-client's process/runtime metrics on this registry. Default false. */
  processMetrics?: boolean;
}

export function createOperatorMetrics(registry: Registry, opts: OperatorMetricsOptions = {}): OperatorMetrics {
  if (opts.processMetrics === true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: "altostack_reconcile_total",
      help: "Reconciliations by controller and result (success, requeue, error).",
      labelNames: ["controller", "result"],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: "altostack_reconcile_duration_seconds",
      help: "Time spent in one reconciliation.",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    reconcileErrors: new Counter({
      name: "altostack_reconcile_errors_total",
      help: "Reconciliations that failed and were retried with backoff.",
      labelNames: ["controller"],
      registers,
    }),
    workqueueDepth: new Gauge({
      name: "altostack_workqueue_depth",
      help: "Keys waiting in a controller's work queue.",
      labelNames: ["controller"],
      registers,
    }),
    workqueueRetries: new Counter({
      name: "altostack_workqueue_retries_total",
      help: "Keys re-queued with backoff.",
      labelNames: ["controller"],
      registers,
    }),
    leader: new Gauge({
      name: "altostack_leader",
      help: "1 while this replica holds the leader lease.",
      labelNames: ["identity"],
      registers,
    }),
  };
}

/** The queue hooks that feed one controller's depth gauge and retry counter. */
export function queueMetricsFor(metrics: OperatorMetrics, controller: string): QueueMetrics {
  return {
    depth: (n) => {
      metrics.workqueueDepth.set({ controller }, n);
    },
    retry: () => {
      metrics.workqueueRetries.inc({ controller });
    },
  };
}
