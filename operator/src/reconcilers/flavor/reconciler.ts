// Flavor reconciler (I/O): checks the flavor's extra specs and says in Ready what servers get from it.
// Servers keep the flavor they were built with (status.flavor), so editing or deleting a Flavor never
// touches running servers; the server reconciler reports a flavorRef that no longer resolves.
import { ConditionType, flavorKind, type Flavor } from "../../api/index.js";
import {
  Controller,
  setCondition,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type ControllerDeps,
} from "../../kube/index.js";
import { flavorReady } from "./status.js";

export const FLAVOR_CONTROLLER = "flavor";

export type FlavorControllerDeps = ControllerDeps;

export function flavorController(deps: FlavorControllerDeps): Controller<Flavor> {
  const now = deps.now ?? (() => new Date());
  const reconcile = async (_key: string, ctx: ReconcileContext<Flavor>): Promise<ReconcileOutcome> => {
    const flavor = ctx.object;
    if (flavor === undefined || flavor.metadata.deletionTimestamp !== undefined) return undefined;
    const verdict = flavorReady(flavor.spec);
    await writeStatusIfChanged(
      deps.client,
      flavorKind,
      flavor,
      {
        ...flavor.status,
        observedGeneration: flavor.metadata.generation,
        conditions: setCondition(
          flavor.status?.conditions,
          { type: ConditionType.Ready, ...verdict, observedGeneration: flavor.metadata.generation },
          now(),
        ),
      },
      ctx.fieldManager,
    );
    return undefined;
  };
  return new Controller<Flavor>({
    name: FLAVOR_CONTROLLER,
    cache: deps.caches.get<Flavor>(flavorKind),
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
