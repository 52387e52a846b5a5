// virt-controller's VirtualMachine loop: finalizer, DataVolumes from templates, the VMI the run
// strategy (and state change requests) call for, declarative volume hotplug into the running VMI, and
// the VM's status.
import { Upstream, ensureFinalizer, hasFinalizer, keyOf, objectKey, ownerKeysFor, removeFinalizer, watchOf, type Controller } from "../kube/index.js";
import { applyStatus, createIfAbsent, Index, simController, type SimContext } from "./runtime.js";
import { Finalizer, Manager, type DV, type PersistentVolumeClaim, type VM } from "./types.js";
import {
  bootDataVolumeNames,
  claimNameOf,
  dataVolumesReady,
  decideRun,
  desiredDataVolume,
  desiredVmi,
  hotplugSync,
  isFinalPhase,
  RunStrategy,
  runStrategyOf,
  vmStatus,
} from "./vm-state.js";

/** The status fields virt-controller writes (virt-api writes stateChangeRequests). */
const OWNED = ["printableStatus", "created", "ready", "conditions"] as const;

export function vmController(ctx: SimContext): Controller<VM> {
  const { caches, client } = ctx;
  const byClaim = (obj: { metadata: { namespace?: string; name?: string } }): string[] =>
    caches.vms.byIndex(Index.claims, objectKey(obj.metadata.namespace, obj.metadata.name ?? "")).map(keyOf);
  return simController<VM>(ctx, {
    name: "sim-virt-vm",
    cache: caches.vms,
    watches: [
      // The VMI has the VM's name.
      watchOf(caches.vmis, (vmi) => [keyOf(vmi)]),
      watchOf(caches.dataVolumes, (dv) => [...ownerKeysFor(Upstream.VirtualMachine)(dv), ...byClaim(dv)]),
      watchOf(caches.claims, byClaim),
    ],
    reconcile: async (key, rc) => {
      let vm = rc.object;
      if (vm === undefined) return undefined; // its VMI and DataVolumes go with it (ownerReferences)
      const namespace = vm.metadata.namespace ?? "";
      const vmi = caches.vmis.get(key);
      const now = ctx.clock.now();

      if (vm.metadata.deletionTimestamp !== undefined) {
        if (vmi !== undefined) {
          if (vmi.metadata.deletionTimestamp === undefined) {
            await client.delete(Upstream.VirtualMachineInstance, vmi.metadata.name ?? "", namespace, {
              preconditions: { uid: vmi.metadata.uid ?? "" },
            });
          }
          await writeStatus(vm);
          return undefined;
        }
        if (hasFinalizer(vm, Finalizer.vm)) {
          rc.log.info("VM deleted and its VMI gone; releasing the VM");
          await removeFinalizer(client, Upstream.VirtualMachine, vm, Finalizer.vm);
        }
        return undefined;
      }
      vm = await ensureFinalizer(client, Upstream.VirtualMachine, vm, Finalizer.vm);

      for (const template of vm.spec.dataVolumeTemplates ?? []) {
        const name = template.metadata?.name;
        if (name === undefined || name === "" || caches.dataVolumes.get(objectKey(namespace, name)) !== undefined) continue;
        rc.log.info({ dataVolume: name }, "creating DataVolume from template");
        await createIfAbsent(client, Upstream.DataVolume, desiredDataVolume(vm, template), Manager.virtController);
      }

      const dataVolumes = new Map<string, DV>();
      for (const name of bootDataVolumeNames(vm)) {
        const dv = caches.dataVolumes.get(objectKey(namespace, name));
        if (dv !== undefined) dataVolumes.set(name, dv);
      }
      const requests = vm.status?.stateChangeRequests ?? [];
      const decision = decideRun({
        strategy: runStrategyOf(vm),
        vmDeleting: false,
        vmi:
          vmi === undefined
            ? undefined
            : { uid: vmi.metadata.uid ?? "", phase: vmi.status?.phase, deleting: vmi.metadata.deletionTimestamp !== undefined },
        request: requests[0],
        dataVolumesReady: dataVolumesReady(bootDataVolumeNames(vm), dataVolumes),
      });
      switch (decision.action.kind) {
        case "createVmi":
          rc.log.info("starting: creating VirtualMachineInstance");
          await createIfAbsent(client, Upstream.VirtualMachineInstance, desiredVmi(vm), Manager.virtController);
          break;
        case "deleteVmi":
          if (vmi !== undefined) {
            rc.log.info({ phase: vmi.status?.phase }, "stopping: deleting VirtualMachineInstance");
            await client.delete(Upstream.VirtualMachineInstance, vmi.metadata.name ?? "", namespace, {
              preconditions: { uid: vmi.metadata.uid ?? "" },
            });
          }
          break;
        case "halt":
          rc.log.info("runStrategy Once: the run is over, halting");
          await client.patch(Upstream.VirtualMachine, vm.metadata.name ?? "", namespace, { spec: { runStrategy: RunStrategy.Halted } }, "merge", {
            fieldManager: Manager.virtController,
          });
          break;
        case "none":
          break;
      }
      if (decision.requestDone) {
        const rest = requests.slice(1);
        await client.patch(
          Upstream.VirtualMachine,
          vm.metadata.name ?? "",
          namespace,
          { status: { stateChangeRequests: rest.length > 0 ? rest : null } },
          "merge",
          { subresource: "status", fieldManager: Manager.virtController },
        );
      }

      if (vmi !== undefined && vmi.metadata.deletionTimestamp === undefined && !isFinalPhase(vmi.status?.phase)) {
        const sync = hotplugSync(vm.spec.template.spec, vmi.spec);
        if (sync !== undefined) {
          rc.log.info({ volumes: sync.volumes.map((v) => v.name) }, "syncing hotplugged volumes into the VMI");
          await client.patch(
            Upstream.VirtualMachineInstance,
            vmi.metadata.name ?? "",
            namespace,
            {
              metadata: { resourceVersion: vmi.metadata.resourceVersion },
              spec: { volumes: sync.volumes, domain: { devices: { disks: sync.disks } } },
            },
            "merge",
            { fieldManager: Manager.virtController },
          );
        }
      }
      await writeStatus(vm);
      return undefined;

      async function writeStatus(current: VM): Promise<void> {
        const claims = new Map<string, PersistentVolumeClaim>();
        const volumeDataVolumes = new Map<string, DV>();
        for (const volume of current.spec.template.spec?.volumes ?? []) {
          const claimName = claimNameOf(volume);
          if (claimName === undefined) continue;
          const claim = caches.claims.get(objectKey(namespace, claimName));
          if (claim !== undefined) claims.set(claimName, claim);
          const dv = volume.dataVolume === undefined ? undefined : caches.dataVolumes.get(objectKey(namespace, claimName));
          if (dv !== undefined) volumeDataVolumes.set(claimName, dv);
        }
        const status = vmStatus({ vm: current, vmi, dataVolumes: volumeDataVolumes, claims }, now);
        await applyStatus(client, Upstream.VirtualMachine, current, status, Manager.virtController, { owned: OWNED });
      }
    },
  });
}
