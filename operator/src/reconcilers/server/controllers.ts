// The compute controllers (Nova and Glance kinds), as the operator assembles them.
import type { CacheSet, EventRecorder, KubeClient, Logger, OperatorMetrics, Runnable } from "../../kube/index.js";
import { flavorController } from "../flavor/reconciler.js";
import { imageController } from "../image/reconciler.js";
import { keypairController } from "../keypair/reconciler.js";
import { serverActionController } from "../serveraction/reconciler.js";
import { serverController } from "./reconciler.js";
import type { ComputeSettings } from "./settings.js";

export interface ComputeControllersDeps {
  client: KubeClient;
  caches: CacheSet;
  logger: Logger;
  metrics?: OperatorMetrics;
  events: (controller: string) => EventRecorder;
  settings: ComputeSettings;
}

export function computeControllers(deps: ComputeControllersDeps): Runnable[] {
  const { client, caches, logger, metrics, events, settings } = deps;
  const common = { client, caches, logger, ...(metrics === undefined ? {} : { metrics }) };
  return [
    flavorController(common),
    keypairController({ ...common, events: events("keypair") }),
    imageController({ ...common, events: events("image"), settings }),
    serverController({ ...common, events: events("server"), settings }),
    serverActionController({ ...common, events: events("serveraction") }),
  ];
}
