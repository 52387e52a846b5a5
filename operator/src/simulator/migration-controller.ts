// virt-controller's migration loop: a VirtualMachineInstanceMigration walks KubeVirt's phases, picks
// a target node other than the source, and ends Succeeded (the VMI controller then moves the VMI) or
// Failed when the VMI is missing, not running, or not live-migratable.
import { Upstream, keyOf, objectKey, watchOf, type Controller } from "../kube/index.js";
import { MigrationPhase, nextMigrationStep } from "./migration-state.js";
import { applyStatus, Index, keysWhere, PhaseClock, placedWorkloads, simController, type SimContext } from "./runtime.js";
import { loadByNode, pickNode } from "./scheduling.js";
import { Manager, type Migration, type PersistentVolumeClaim } from "./types.js";
import { claimNameOf } from "./vm-state.js";
import { liveMigratable } from "./vmi-state.js";

export function migrationController(ctx: SimContext): Controller<Migration> {
  const { caches, client } = ctx;
  const phases = new PhaseClock(ctx.clock);
  return simController<Migration>(ctx, {
    name: "sim-virt-migration",
    cache: caches.migrations,
    watches: [
      watchOf(caches.vmis, (vmi) => [
        ...caches.migrations.byIndex(Index.vmi, keyOf(vmi)).map(keyOf),
        // A VMI on a node coming or going changes where (anti-)affinity lets a waiting target go.
        ...((vmi.status?.nodeName ?? "") === "" ? [] : keysWhere(caches.migrations, (m) => m.status?.phase === MigrationPhase.Scheduling)),
      ]),
      watchOf(caches.nodes, () => keysWhere(caches.migrations, (m) => m.status?.phase === MigrationPhase.Scheduling)),
    ],
    reconcile: async (key, rc) => {
      const migration = rc.object;
      if (migration === undefined) {
        phases.forget(key);
        return undefined;
      }
      const namespace = migration.metadata.namespace ?? "";
      const vmi = migration.spec.vmiName === undefined ? undefined : caches.vmis.get(objectKey(namespace, migration.spec.vmiName));
      const claims = new Map<string, PersistentVolumeClaim>();
      for (const volume of vmi?.spec.volumes ?? []) {
        const name = claimNameOf(volume);
        const claim = name === undefined ? undefined : caches.claims.get(objectKey(namespace, name));
        if (name !== undefined && claim !== undefined) claims.set(name, claim);
      }
      const verdict = vmi === undefined ? undefined : liveMigratable(vmi, claims);
      const sourceNode = migration.status?.migrationState?.sourceNode ?? vmi?.status?.nodeName;
      const step = nextMigrationStep({
        migration,
        vmi,
        migratable: { ok: verdict?.status !== "False", message: verdict?.message ?? "" },
        enteredAt: phases.since(migration, migration.status?.phase ?? ""),
        now: ctx.clock.now(),
        delays: ctx.config.delays,
        schedule: () => {
          // The target honours the VMI's (anti-)affinity against everything else placed; the VMI
          // itself (still on the source) is left out, as it is the one moving.
          const placed = placedWorkloads(ctx);
          return pickNode(
            caches.nodes.list(),
            { nodeSelector: vmi?.spec.nodeSelector, affinity: vmi?.spec.affinity, namespace, labels: vmi?.metadata.labels },
            loadByNode(placed.map((w) => w.nodeName)),
            new Set(sourceNode === undefined ? [] : [sourceNode]),
            placed,
            vmi?.metadata.uid,
          );
        },
      });
      switch (step.kind) {
        case "wait":
          return { requeueAfterMs: step.waitMs };
        case "stay":
          if (step.reason !== undefined) rc.log.info({ reason: step.reason }, "no target node for the migration yet");
          return undefined;
        case "advance":
          phases.moved(migration, step.status.phase ?? "");
          rc.log.info(
            { from: migration.status?.phase ?? "(new)", to: step.status.phase, reason: step.status.migrationState?.failureReason },
            "migration phase",
          );
          await applyStatus(client, Upstream.VirtualMachineInstanceMigration, migration, step.status, Manager.virtController);
          return undefined;
      }
    },
  });
}
