// The block storage controllers (Cinder kinds), as the operator assembles them.
import type { CacheSet, EventRecorder, KubeClient, Logger, OperatorMetrics, Runnable } from "../../kube/index.js";
import type { ComputeSettings } from "../server/settings.js";
import { snapshotController } from "../snapshot/reconciler.js";
import { volumeController } from "./reconciler.js";
import type { StorageSettings } from "./settings.js";

export interface StorageControllersDeps {
  client: KubeClient;
  caches: CacheSet;
  logger: Logger;
  metrics?: OperatorMetrics;
  events: (controller: string) => EventRecorder;
  storage: StorageSettings;
  compute: ComputeSettings;
}

export function storageControllers(deps: StorageControllersDeps): Runnable[] {
  const { client, caches, logger, metrics, events, storage, compute } = deps;
  const common = { client, caches, logger, ...(metrics === undefined ? {} : { metrics }) };
  return [volumeController({ ...common, events: events("volume"), storage, compute }), snapshotController({ ...common, events: events("snapshot"), storage })];
}
