// IPAM garbage collection: an Allocation whose holder no longer exists is released. Holders free their
// values themselves on deletion (finalizers); this controller catches what a crash or a race leaves behind,
// e.g. a replica that allocated for a port just as another replica finished deleting it. An allocation a
// live holder no longer needs is the holder's own business (its reconcile releases surplus), never ours.
import { networkKind, portKind, type Allocation, type AllocationHolder } from "../../api/index.js";
import {
  Controller,
  keyOf,
  objectKey,
  type CacheSet,
  type KubeClient,
  type KubeObject,
  type Logger,
  type OperatorMetrics,
  type ReconcileContext,
  type ReconcileOutcome,
  type ResourceType,
  type WatchCache,
} from "../../kube/index.js";
import { Index, networkingSources, onlyWhen } from "../network/sources.js";
import { release, type ArbiterClient } from "./arbiter.js";

export const IPAM_CONTROLLER = "ipam";

export interface IpamControllerDeps {
  client: ArbiterClient;
  caches: CacheSet;
  logger: Logger;
  metrics?: OperatorMetrics;
  workers?: number;
}

const HOLDER_KINDS: Record<string, ResourceType> = { [portKind.kind]: portKind, [networkKind.kind]: networkKind };

export function ipamController(deps: IpamControllerDeps): Controller<Allocation> {
  const sources = networkingSources(deps.caches);
  const holderCaches: Record<string, WatchCache<KubeObject>> = {
    [portKind.kind]: sources.ports as unknown as WatchCache<KubeObject>,
    [networkKind.kind]: sources.networks as unknown as WatchCache<KubeObject>,
  };
  const allocationsOf = (holder: KubeObject): string[] =>
    holder.metadata.uid === undefined
      ? []
      : sources.allocations.byIndex(Index.allocationsByHolder, holder.metadata.uid).map(keyOf);

  const holderExists = async (holder: AllocationHolder): Promise<boolean | undefined> => {
    const rt = HOLDER_KINDS[holder.kind];
    const cache = holderCaches[holder.kind];
    if (rt === undefined || cache === undefined) return undefined;
    if (cache.get(objectKey(holder.namespace, holder.name))?.metadata.uid === holder.uid) return true;
    // Our cache may simply not have seen the holder yet: ask the apiserver.
    const live = await (deps.client as Pick<KubeClient, "get">).get(rt, holder.name, holder.namespace);
    return live?.metadata.uid === holder.uid;
  };

  const reconcile = async (_key: string, ctx: ReconcileContext<Allocation>): Promise<ReconcileOutcome> => {
    const allocation = ctx.object;
    if (allocation === undefined) return undefined;
    const exists = await holderExists(allocation.spec.holder);
    if (exists === undefined) {
      ctx.log.warn({ holderKind: allocation.spec.holder.kind }, "allocation held by an unknown kind; left alone");
      return undefined;
    }
    if (exists) return undefined;
    await release(deps.client, allocation);
    ctx.log.info(
      { holder: allocation.spec.holder, value: allocation.spec.value },
      "released an allocation whose holder is gone",
    );
    return undefined;
  };

  return new Controller<Allocation>({
    name: IPAM_CONTROLLER,
    cache: sources.allocations,
    // A holder's events bring its allocations back for a look; only a missing holder leads to a release.
    watches: [
      { cache: onlyWhen(sources.ports, () => false), mapToKeys: allocationsOf },
      { cache: onlyWhen(sources.networks, () => false), mapToKeys: allocationsOf },
    ],
    // Allocations never change (their spec is immutable): only adds and deletes matter.
    shouldEnqueueUpdate: () => false,
    reconcile,
    logger: deps.logger,
    ...(deps.workers === undefined ? {} : { workers: deps.workers }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
