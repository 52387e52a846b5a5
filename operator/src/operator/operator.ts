// Assembles the operator: controllers run only while this replica leads (Lease), each leadership term with
// fresh caches and controllers; /metrics, /healthz and /readyz are served throughout.
import { Registry } from "prom-client";
import {
  CacheSet,
  EventRecorder,
  LeaderElector,
  createOperatorMetrics,
  startOpsServer,
  type KubeClient,
  type Runnable,
  type Logger,
  type OperatorMetrics,
  type OpsServer,
} from "../kube/index.js";
import { containerController } from "../reconcilers/container/reconciler.js";
import { networkingControllers } from "../reconcilers/network/controllers.js";
import { projectController } from "../reconcilers/project/reconciler.js";
import { impersonationController } from "../reconcilers/impersonation/reconciler.js";
import { computeControllers } from "../reconcilers/server/controllers.js";
import { storageControllers } from "../reconcilers/volume/controllers.js";
import type { OperatorConfig } from "./config.js";

export interface OperatorDeps {
  client: KubeClient;
  logger: Logger;
  config: OperatorConfig;
  /**
   * Called when this replica loses the lease without being asked to stop. The process should exit so that
   * it restarts as a clean standby (a replica never leads twice with the same in-memory state).
   */
  onLeadershipLost?: () => void;
}

export interface RunningOperator {
  isLeader(): boolean;
  readonly opsPort: number;
  stop(): Promise<void>;
}

/** Every controller of the operator, built on one shared cache set. Later issues add theirs here. */
function buildControllers(client: KubeClient, caches: CacheSet, logger: Logger, metrics: OperatorMetrics, config: OperatorConfig) {
  const events = (controller: string) => new EventRecorder({ client, controller, instance: config.identity, logger });
  const controllers: Runnable[] = [
    projectController({ client, caches, logger, metrics, events: events("project") }),
    impersonationController({ client, caches, logger, metrics }),
    ...networkingControllers({ client, caches, logger, metrics, events, networking: config.networking, workers: config.workers }),
    ...computeControllers({ client, caches, logger, metrics, events, settings: config.compute }),
    ...storageControllers({ client, caches, logger, metrics, events, storage: config.storage, compute: config.compute }),
    containerController({ client, caches, logger, metrics, events: events("container") }),
  ];
  return controllers;
}

export async function startOperator({ client, logger, config, onLeadershipLost }: OperatorDeps): Promise<RunningOperator> {
  const registry = new Registry();
  const metrics = createOperatorMetrics(registry, { processMetrics: true });
  let term: { caches: CacheSet; controllers: Runnable[] } | undefined;
  let leading = !config.leaderElection;

  const startTerm = async (): Promise<void> => {
    const caches = new CacheSet(client, logger.child({ component: "cache" }));
    const controllers = buildControllers(client, caches, logger, metrics, config);
    term = { caches, controllers };
    await Promise.all(controllers.map((c) => c.start()));
    logger.info({ controllers: controllers.map((c) => c.name) }, "controllers running");
  };
  const stopTerm = async (): Promise<void> => {
    const current = term;
    term = undefined;
    if (current === undefined) return;
    await Promise.all(current.controllers.map((c) => c.stop()));
    await current.caches.stopAll();
  };

  const ops: OpsServer = await startOpsServer({
    port: config.opsPort,
    host: config.opsHost,
    registry,
    logger,
    // A standby is ready (it is warm and waiting); a leader is ready once its caches have synced.
    readiness: () => !leading || (term?.caches.hasSynced() ?? false),
  });

  const stopElection = new AbortController();
  let election: Promise<void> | undefined;
  if (config.leaderElection) {
    const elector = new LeaderElector({
      client,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      logger,
      metrics,
    });
    election = elector.run(
      {
        onStartedLeading: async () => {
          leading = true;
          await startTerm();
        },
        onStoppedLeading: async () => {
          leading = false;
          await stopTerm();
        },
      },
      stopElection.signal,
    );
    election.then(
      () => {
        if (!stopElection.signal.aborted) {
          logger.error("lost the leader lease");
          onLeadershipLost?.();
        }
      },
      (e: unknown) => {
        logger.error({ err: e }, "leader election failed");
        onLeadershipLost?.();
      },
    );
  } else {
    await startTerm();
  }

  let stopped: Promise<void> | undefined;
  return {
    isLeader: () => leading,
    opsPort: ops.port,
    // Idempotent: signal handlers and tests may both ask.
    stop: () =>
      (stopped ??= (async () => {
        stopElection.abort();
        await election?.catch(() => undefined);
        await stopTerm();
        await ops.close();
      })()),
  };
}
