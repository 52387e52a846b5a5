// Subnet reconciler (I/O): validates what CEL cannot (pool order and overlap, gateway in a pool, CIDR overlap
// with the network's other subnets) into the Ready condition, reports the effective gateway, pools and
// usage, and holds deletion while any address of the subnet is allocated (SubnetInUse).
import {
  Finalizer,
  Reason,
  allocationKind,
  subnetKind,
  type Allocation,
  type Subnet,
} from "../../api/index.js";
import {
  Controller,
  ensureFinalizer,
  keyOf,
  removeFinalizer,
  withReady as withReadyCondition,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
} from "../../kube/index.js";
import { formatIp } from "../ipam/addresses.js";
import { AllocationLabel, countInPool } from "../ipam/arbiter.js";
import { conflictsComeBackThroughTheWatch, ignoreNotFound } from "../ipam/guarded-status.js";
import { Index, networkingSources, onlyWhen, specOrDeletionChanged, subnetNetworkKey, subnetsOf } from "../network/sources.js";
import { listNames, type Verdict } from "../network/status.js";
import { evaluateSubnet, poolsText } from "./evaluate.js";

export const SUBNET_CONTROLLER = "subnet";

export interface SubnetControllerDeps extends EventingControllerDeps {
  workers?: number;
}

type SubnetStatus = NonNullable<Subnet["status"]>;
const INT32_MAX = 2_147_483_647n;

export function subnetController(deps: SubnetControllerDeps): Controller<Subnet> {
  const sources = networkingSources(deps.caches);
  const now = deps.now ?? (() => new Date());

  const withReady = (subnet: Subnet, status: SubnetStatus, verdict: Verdict): SubnetStatus => withReadyCondition(subnet, status, verdict, now());

  const reconcile = async (_key: string, ctx: ReconcileContext<Subnet>): Promise<ReconcileOutcome> => {
    if (ctx.object === undefined) return undefined;
    if (ctx.object.metadata.deletionTimestamp !== undefined) return reconcileDelete(ctx.object, ctx);
    const subnet = await ensureFinalizer(deps.client, subnetKind, ctx.object, Finalizer.subnet);
    const networkKey = subnetNetworkKey(subnet);
    const allocated = countInPool(sources.allocations, "ip", subnet.metadata.uid ?? "");
    const evaluation = evaluateSubnet(subnet, subnetsOf(sources, networkKey));

    let status: SubnetStatus;
    if (!evaluation.ok) {
      deps.events.warning(subnet, evaluation.reason, evaluation.message);
      status = withReady(subnet, { allocated }, { status: "False", reason: evaluation.reason, message: evaluation.message });
    } else {
      const { view, total } = evaluation;
      const base: SubnetStatus = {
        ...(view.gateway === undefined ? {} : { gatewayIP: formatGateway(view) }),
        allocationPools: poolsText(view),
        allocated,
        total: Number(total > INT32_MAX ? INT32_MAX : total),
      };
      const network = sources.networks.get(networkKey);
      status =
        network === undefined
          ? withReady(subnet, base, {
              status: "False",
              reason: Reason.DependencyNotFound,
              message: `network ${subnet.spec.networkRef} not found in this project; create it first`,
            })
          : withReady(subnet, base, {
              status: "True",
              reason: Reason.Reconciled,
              message: `${allocated} of ${total} addresses allocated`,
            });
    }
    await writeStatusIfChanged(deps.client, subnetKind, subnet, status, ctx.fieldManager);
    return undefined;
  };

  async function reconcileDelete(subnet: Subnet, ctx: ReconcileContext<Subnet>): Promise<ReconcileOutcome> {
    // Live, not cached: an address allocated a moment ago must hold the deletion too.
    const list = await deps.client.list<Allocation>(allocationKind, {
      labelSelector: `${AllocationLabel.type}=ip,${AllocationLabel.pool}=${subnet.metadata.uid ?? ""}`,
    });
    if (list.items.length > 0) {
      const holders = [...new Set(list.items.map((a) => `${a.spec.holder.kind.toLowerCase()} ${a.spec.holder.name}`))];
      const verdict: Verdict = {
        status: "False",
        reason: Reason.SubnetInUse,
        message:
          `subnet still has ${list.items.length} allocated address(es), held by ${listNames(holders)}; ` +
          "delete those ports (or remove their fixed IPs on this subnet) and the subnet goes",
      };
      deps.events.warning(subnet, verdict.reason, verdict.message, { action: "Delete" });
      await writeStatusIfChanged(deps.client, subnetKind, subnet, withReady(subnet, { ...subnet.status }, verdict), ctx.fieldManager);
      return undefined; // the allocation watch brings us back
    }
    await ignoreNotFound(removeFinalizer(deps.client, subnetKind, subnet, Finalizer.subnet));
    return undefined;
  }

  const subnetKeysByUid = (uid: string): string[] => sources.subnets.byIndex(Index.subnetsByUid, uid).map(keyOf);

  return new Controller<Subnet>({
    name: SUBNET_CONTROLLER,
    cache: sources.subnets,
    watches: [
      // Siblings: a subnet arriving, changing or going can change whether another one overlaps.
      {
        cache: onlyWhen(sources.subnets, specOrDeletionChanged),
        mapToKeys: (s) => subnetsOf(sources, subnetNetworkKey(s as Subnet)).map(keyOf),
      },
      {
        cache: onlyWhen(sources.networks, () => false),
        mapToKeys: (n) => sources.subnets.byIndex(Index.subnetsByNetwork, keyOf(n)).map(keyOf),
      },
      {
        cache: onlyWhen(sources.allocations, () => false),
        mapToKeys: (a) => {
          const { spec } = a as Allocation;
          return spec.type === "ip" ? subnetKeysByUid(spec.pool) : [];
        },
      },
    ],
    reconcile: conflictsComeBackThroughTheWatch(reconcile),
    logger: deps.logger,
    ...(deps.workers === undefined ? {} : { workers: deps.workers }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}

function formatGateway(view: { cidr: { version: 4 | 6 }; gateway: bigint | undefined }): string {
  return view.gateway === undefined ? "" : formatIp(view.cidr.version, view.gateway);
}
