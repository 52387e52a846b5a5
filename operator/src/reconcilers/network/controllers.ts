// The networking controllers, as one list for the operator's assembly: networks, subnets, ports (and the
// ports instances ask for), security groups (and every project's default group), and IPAM garbage collection.
import type { CacheSet, EventRecorder, KubeClient, Logger, OperatorMetrics, Runnable } from "../../kube/index.js";
import type { NetworkingConfig } from "../../operator/config.js";
import { ipamController } from "../ipam/reconciler.js";
import { instancePortsController } from "../port/instance-ports.js";
import { portController } from "../port/reconciler.js";
import { defaultSecurityGroupController } from "../securitygroup/default-group.js";
import { securityGroupController } from "../securitygroup/reconciler.js";
import { subnetController } from "../subnet/reconciler.js";
import { networkController } from "./reconciler.js";

export interface NetworkingControllersDeps {
  client: KubeClient;
  caches: CacheSet;
  logger: Logger;
  metrics: OperatorMetrics;
  /** An EventRecorder per controller name. */
  events: (controller: string) => EventRecorder;
  networking: NetworkingConfig;
  workers?: number;
}

export function networkingControllers(deps: NetworkingControllersDeps): Runnable[] {
  const { client, caches, logger, metrics, workers } = deps;
  const common = { client, caches, logger, metrics, ...(workers === undefined ? {} : { workers }) };
  return [
    networkController({ ...common, events: deps.events("network"), networking: deps.networking }),
    subnetController({ ...common, events: deps.events("subnet") }),
    portController({ ...common, events: deps.events("port") }),
    instancePortsController(common, "Server"),
    instancePortsController(common, "Container"),
    securityGroupController({ ...common, events: deps.events("securitygroup") }),
    defaultSecurityGroupController({ client, caches, logger, metrics }),
    ipamController(common),
  ];
}
