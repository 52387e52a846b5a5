// virt-controller's VMI loop and virt-handler in one: the VMI steps through its phases onto a node,
// reports interfaces (pod IP, and config-drive addresses as a guest agent would), volumes and
// conditions, mirrors a migration's state, and stops (Succeeded, finalizer removed) when deleted.
// There is no virt-launcher pod; the VMI holds its pod-network address itself.
import {
  Builtin,
  Upstream,
  ensureFinalizer,
  hasFinalizer,
  keyOf,
  objectKey,
  removeFinalizer,
  watchOf,
  type Controller,
} from "../kube/index.js";
import { addressesByMac, networkDataFromSecret, networkDataSourceOf } from "./network-data.js";
import { applyStatus, Index, keysWhere, PhaseClock, placedWorkloads, placementKey, simController, type SimContext } from "./runtime.js";
import { loadByNode, pickNode, turnedAway } from "./scheduling.js";
import { Annotation, Finalizer, Label, Manager, type PersistentVolumeClaim, type Secret, type VMI } from "./types.js";
import { claimNameOf, isFinalPhase, VmiPhase } from "./vm-state.js";
import {
  claimReadiness,
  currentMigration,
  liveMigratable,
  migrationProjection,
  nextVmiPhase,
  STOPPING,
  vmiConditions,
  vmiConditionVerdicts,
  vmiInterfaces,
  vmiVolumeStatus,
  withPhaseTimestamp,
  type VmiStatus,
} from "./vmi-state.js";

/** The status fields virt-controller and virt-handler write. */
const OWNED = [
  "phase",
  "phaseTransitionTimestamps",
  "nodeName",
  "conditions",
  "interfaces",
  "volumeStatus",
  "migrationState",
  "qosClass",
  "guestOSInfo",
  "activePods",
  "launcherContainerImageVersion",
  "migrationMethod",
  "migrationTransport",
] as const;

const UNSCHEDULED = new Set<string>(["", VmiPhase.Pending, VmiPhase.Scheduling]);

export function vmiController(ctx: SimContext): Controller<VMI> {
  const { caches, client } = ctx;
  const phases = new PhaseClock(ctx.clock);
  // Network data from a Secret is read once per VMI and Secret version (no Secret cache for a rare case).
  const secretNetworkData = new Map<string, { resourceVersion: string; json: string | undefined }>();

  async function guestAddresses(vmi: VMI): Promise<Map<string, string[]>> {
    const source = networkDataSourceOf(vmi.spec.volumes);
    if (source.kind === "none") return new Map();
    if (source.kind === "inline") return addressesByMac(source.json);
    const memoKey = `${keyOf(vmi)}/${source.secretName}`;
    const secret = await client.get<Secret>(Builtin.Secret, source.secretName, vmi.metadata.namespace);
    const version = secret?.metadata.resourceVersion ?? "";
    let memo = secretNetworkData.get(memoKey);
    if (memo?.resourceVersion !== version) {
      memo = { resourceVersion: version, json: networkDataFromSecret(secret?.data) };
      secretNetworkData.set(memoKey, memo);
    }
    return memo.json === undefined ? new Map() : addressesByMac(memo.json);
  }

  /** VMIs the scheduler turned away (PodScheduled=False): a workload leaving or arriving may let them in. */
  function waitingForRoom(): string[] {
    return keysWhere(
      caches.vmis,
      (v) => UNSCHEDULED.has(v.status?.phase ?? "") && turnedAway(v.status?.conditions),
    );
  }

  function podCidrOf(nodeName: string): string | undefined {
    return caches.nodes.get(nodeName)?.spec?.podCIDR;
  }

  return simController<VMI>(ctx, {
    name: "sim-virt-vmi",
    cache: caches.vmis,
    watches: [
      // A node appearing, or becoming Ready, may let waiting VMIs schedule.
      watchOf(caches.nodes, () => keysWhere(caches.vmis, (v) => UNSCHEDULED.has(v.status?.phase ?? ""))),
      // Workloads on a node coming, going or finishing change what pod (anti-)affinity allows.
      watchOf(caches.vmis, (v) => ((v.status?.nodeName ?? "") === "" ? [] : waitingForRoom())),
      watchOf(caches.pods, (p) => ((p.spec?.nodeName ?? "") === "" ? [] : waitingForRoom())),
      watchOf(caches.claims, (claim) => caches.vmis.byIndex(Index.claims, keyOf(claim)).map(keyOf)),
      watchOf(caches.migrations, (m) => (m.spec.vmiName === undefined ? [] : [objectKey(m.metadata.namespace, m.spec.vmiName)])),
    ],
    reconcile: async (key, rc) => {
      const vmi = rc.object;
      if (vmi === undefined) {
        ctx.placements.forget(placementKey.vmi(key));
        ctx.addresses.release(`vmi:${key}`);
        phases.forget(key);
        for (const memo of secretNetworkData.keys()) if (memo.startsWith(`${key}/`)) secretNetworkData.delete(memo);
        return undefined;
      }
      const namespace = vmi.metadata.namespace ?? "";
      const deleting = vmi.metadata.deletionTimestamp !== undefined;
      const phase = vmi.status?.phase ?? "";
      const now = ctx.clock.now();

      if (deleting && isFinalPhase(phase)) {
        ctx.addresses.release(`vmi:${key}`);
        if (hasFinalizer(vmi, Finalizer.vmi)) {
          rc.log.info("guest stopped; releasing the VMI");
          await removeFinalizer(client, Upstream.VirtualMachineInstance, vmi, Finalizer.vmi);
        }
        return undefined;
      }
      if (!deleting && !isFinalPhase(phase) && !hasFinalizer(vmi, Finalizer.vmi)) {
        await ensureFinalizer(client, Upstream.VirtualMachineInstance, vmi, Finalizer.vmi);
        return undefined; // the update brings it back
      }

      const claims = new Map<string, PersistentVolumeClaim>();
      for (const volume of vmi.spec.volumes ?? []) {
        const name = claimNameOf(volume);
        const claim = name === undefined ? undefined : caches.claims.get(objectKey(namespace, name));
        if (name !== undefined && claim !== undefined) claims.set(name, claim);
      }
      const readiness = claimReadiness(vmi.spec.volumes, claims);
      const nodes = caches.nodes.list();
      if ((vmi.status?.nodeName ?? "") !== "") ctx.placements.forget(placementKey.vmi(key));
      const step = nextVmiPhase({
        phase,
        deleting,
        enteredAt: phases.since(vmi, deleting ? STOPPING : phase),
        now,
        delays: ctx.config.delays,
        missingClaims: readiness.missing,
        unboundClaims: readiness.unbound,
        schedule: () => {
          // Synchronous from reading the caches to assuming the result: no other decision interleaves.
          const placed = placedWorkloads(ctx);
          const uid = vmi.metadata.uid ?? "";
          const result = pickNode(
            nodes,
            { nodeSelector: vmi.spec.nodeSelector, affinity: vmi.spec.affinity, namespace, labels: vmi.metadata.labels },
            loadByNode(placed.filter((w) => w.uid !== uid).map((w) => w.nodeName)),
            undefined,
            placed,
            uid,
          );
          if (result.node !== undefined) ctx.placements.assume(placementKey.vmi(key), uid, result.node.metadata.name ?? "");
          return result;
        },
      });

      let newPhase: string = phase;
      let nodeName = vmi.status?.nodeName;
      if (step.kind === "advance") {
        newPhase = step.to;
        if (step.nodeName !== undefined) nodeName = step.nodeName;
        phases.moved(vmi, deleting ? STOPPING : newPhase);
        rc.log.info({ from: phase || "(new)", to: newPhase, node: nodeName }, "VMI phase");
      }

      const running = newPhase === VmiPhase.Running;
      const migration = currentMigration(caches.migrations.byIndex(Index.vmi, key));
      const projection = running ? migrationProjection(vmi, migration) : { nodeName, migrationState: vmi.status?.migrationState ?? undefined };
      if (projection.nodeName !== undefined && projection.nodeName !== nodeName) {
        rc.log.info({ from: nodeName, to: projection.nodeName }, "migration completed; VMI now on the target node");
        nodeName = projection.nodeName;
      }

      const onPodNetwork = (vmi.spec.networks ?? []).some((n) => n.pod !== undefined && n.pod !== null);
      const cidr = nodeName === undefined ? undefined : podCidrOf(nodeName);
      const podIp =
        onPodNetwork && cidr !== undefined && (running || newPhase === VmiPhase.Scheduled) && !isFinalPhase(newPhase)
          ? ctx.addresses.acquire(`vmi:${key}`, cidr)
          : undefined;

      const verdicts = vmiConditionVerdicts({
        phase: newPhase,
        deleting,
        missingClaims: readiness.missing,
        namespace,
        unschedulable: step.unschedulable,
        liveMigratable: liveMigratable(vmi, claims),
        paused: vmi.metadata.annotations?.[Annotation.simPaused] === "true",
      });
      const status: VmiStatus = {
        ...(newPhase === "" ? {} : { phase: newPhase, phaseTransitionTimestamps: withPhaseTimestamp(vmi.status?.phaseTransitionTimestamps, newPhase, now) }),
        ...(nodeName === undefined ? {} : { nodeName }),
        conditions: vmiConditions(vmi, verdicts, now),
        qosClass: "Burstable",
      };
      if (running) {
        status.interfaces = vmiInterfaces({ vmi, podIp, guestAddresses: await guestAddresses(vmi) });
        status.volumeStatus = vmiVolumeStatus(vmi, claims);
        status.guestOSInfo = { id: "simulated", name: "Simulated guest", prettyName: "Simulated guest (no real OS)", kernelRelease: "6.8.0-sim" };
        status.launcherContainerImageVersion = "quay.io/kubevirt/virt-launcher:v1.9.0";
        status.migrationMethod = "LiveMigration";
        status.migrationTransport = "Unix";
        if (nodeName !== undefined) status.activePods = { [vmi.metadata.uid ?? ""]: nodeName };
      } else if (vmi.status?.interfaces !== undefined && !isFinalPhase(newPhase)) {
        status.interfaces = vmi.status.interfaces;
      }
      if (projection.migrationState !== undefined) status.migrationState = projection.migrationState;

      await applyStatus(client, Upstream.VirtualMachineInstance, vmi, status, Manager.virtHandler, { owned: OWNED, subresource: false });
      if (nodeName !== undefined && !isFinalPhase(newPhase) && vmi.metadata.labels?.[Label.vmiNodeName] !== nodeName) {
        await client.patch(
          Upstream.VirtualMachineInstance,
          vmi.metadata.name ?? "",
          namespace,
          { metadata: { labels: { [Label.vmiNodeName]: nodeName } } },
          "merge",
          { fieldManager: Manager.virtHandler },
        );
      }
      return step.kind === "wait" ? { requeueAfterMs: step.waitMs } : undefined;
    },
  });
}
