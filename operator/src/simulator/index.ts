// The data-plane simulator: on a bare control plane (kube-apiserver, kube-controller-manager, etcd;
// no scheduler, kubelet, KubeVirt, CDI, CSI or snapshot controller) it plays the components the
// operator relies on, writing the same objects and status they write, through the same API. Each
// piece is a small watch-driven controller; the state transitions are pure functions (*-state.ts).
//
// Simulated:
// - Nodes: N kubelets register Ready nodes (zones round-robin, default "nova"), with KVM device
//   capacity, a pod CIDR each, and are re-registered if deleted.
// - virt-controller/virt-handler: VM → DataVolumes from templates and a VMI per run strategy (Always,
//   RerunOnFailure, Halted, Manual, Once, and status.stateChangeRequests as virt-api writes them);
//   VMI phases Pending → Scheduling → Scheduled → Running on a node honouring nodeSelector/affinity;
//   interfaces with MACs, the pod IP, and addresses from the config drive's network_data.json as a
//   guest agent reports them; volume status with declarative hotplug; stop → Succeeded → gone;
//   VirtualMachineInstanceMigration through KubeVirt's phases (RWX PVCs required, like
//   LiveMigratable); VM printableStatus, ready, created and conditions. VM and VMI finalizers as KubeVirt.
// - CDI: DataVolume → PVC, import/clone/blank/upload phases with progress and Bound/Ready/Running
//   conditions; clones wait for their PVC, snapshot or DataSource; DataSource Ready. Failure
//   injection: http/registry hosts ending in ".invalid", or the annotation sim.altostack.io/fail: "true".
// - CSI: PVs for claims of the driver's classes, binding, online expansion, reclaim Delete,
//   pvc-/pv-protection; a default StorageClass and VolumeSnapshotClass; snapshots and their contents.
// - Pods: scheduling through the binding subresource, Running/Ready with unique IPs per node range,
//   Multus network-status for the networks a pod selects (missing NADs keep it ContainerCreating),
//   graceful deletion completed by the kubelet; images from a registry host ending in ".invalid" stay in
//   ImagePullBackOff.
//
// Not simulated: no guest runs and no bytes move (images, disks and snapshots are bookkeeping; only an
// upload's bytes are written, to a file); no real network, DHCP, whereabouts IPAM or NetworkPolicy/MultiNetworkPolicy enforcement; no virt-launcher,
// importer, hotplug-attachment or migration-target pods; NoCloud network data; probes, restarts,
// resource accounting and taints; CDI populators and WaitForFirstConsumer; admission
// webhooks of KubeVirt/CDI. Of the aggregated APIs, subresources.kubevirt.io serves pause/unpause,
// softreboot, reset and start/stop/restart/migrate (subresources-api.ts, registered as an APIService
// behind the apiserver's front proxy), and upload.cdi.kubevirt.io (UploadTokenRequest) with a simulated
// cdi-uploadproxy that writes uploads to files (upload-proxy.ts); addvolume/removevolume, console and VNC
// are not served.
import { Builtin, Upstream, systemClock, type Clock, type KubeClient, type Logger } from "../kube/index.js";
import { dataSourceController, dataVolumeController } from "./cdi-controllers.js";
import { parseSimulatorConfig, type SimulatorConfig, type SimulatorConfigInput } from "./config.js";
import { migrationController } from "./migration-controller.js";
import { nodesController } from "./nodes-controller.js";
import { podsController } from "./pods-controller.js";
import { allCaches, createContext, createIfAbsent, stopCaches, type SimContext } from "./runtime.js";
import { claimController, snapshotController, volumeController } from "./storage-controllers.js";
import { Manager } from "./types.js";
import { vmController } from "./vm-controller.js";
import { vmiController } from "./vmi-controller.js";
import { startSubresourcesApi, type SubresourcesApi } from "./subresources-api.js";
import { defaultClasses } from "./volume-state.js";

export { parseSimulatorConfig, parseCli, uniformDelays, SimulatorConfigError, DELAY_NAMES } from "./config.js";
export type { SimulatorConfig, SimulatorConfigInput, Delays, DelayName } from "./config.js";

export interface StartSimulatorOptions {
  client: KubeClient;
  log: Logger;
  /** Any subset of the settings; defaults fill the rest. */
  config?: SimulatorConfigInput;
  clock?: Clock;
  /** How long to wait for the first list of every watched type. Default 60 s. */
  startTimeoutMs?: number;
}

/** What startSimulator needs of a controller (Controller<T> for any T). */
interface Runnable {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface Simulator {
  readonly config: SimulatorConfig;
  /** The simulated cdi-uploadproxy (URL and CA file), when the aggregated APIs are served. */
  readonly uploadProxy: { url: string; caFile: string } | undefined;
  /** Stops every controller (waiting for reconciles in flight) and every watch. */
  stop(): Promise<void>;
}

export async function startSimulator(opts: StartSimulatorOptions): Promise<Simulator> {
  const config = parseSimulatorConfig(opts.config ?? {});
  // Lines are told apart by their controller (sim-*); the caller's logger names the component.
  const log = opts.log;
  const ctx: SimContext = createContext({ client: opts.client, log, config, clock: opts.clock ?? systemClock });
  if (config.storage.createClasses) await ensureClasses(ctx);

  const controllers: Runnable[] = [
    nodesController(ctx),
    vmController(ctx),
    vmiController(ctx),
    migrationController(ctx),
    dataVolumeController(ctx),
    dataSourceController(ctx),
    claimController(ctx),
    volumeController(ctx),
    snapshotController(ctx),
    podsController(ctx),
  ];
  let virtApi: SubresourcesApi | undefined;
  const stop = async (): Promise<void> => {
    await virtApi?.stop();
    await Promise.all(controllers.map((c) => c.stop()));
    await stopCaches(ctx.caches);
  };

  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      resolve("timeout");
    }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.all(controllers.map((c) => c.start())).then(() => "started" as const), timedOut]);
    if (outcome === "timeout") {
      const waiting = allCaches(ctx.caches)
        .filter((c) => !c.hasSynced())
        .map((c) => c.resourceType.kind);
      throw new Error(
        `simulator caches did not sync within ${timeoutMs} ms (${waiting.join(", ")}); are the upstream CRDs installed?`,
      );
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  try {
    virtApi = await startSubresourcesApi(ctx);
  } catch (e) {
    await stop();
    throw e;
  }
  log.info(
    { nodes: config.nodes.count, zones: config.nodes.zones, delays: config.delays, controllers: controllers.map((c) => c.name) },
    "simulator running",
  );
  return { config, stop, uploadProxy: virtApi === undefined ? undefined : { url: virtApi.uploadProxy.url, caFile: virtApi.uploadProxy.caFile } };
}

/** The default StorageClass and VolumeSnapshotClass of the simulated driver, when absent. */
async function ensureClasses(ctx: SimContext): Promise<void> {
  const { storageClass, snapshotClass } = defaultClasses(ctx.config.storage);
  await createIfAbsent(ctx.client, Builtin.StorageClass, storageClass, Manager.provisioner);
  await createIfAbsent(ctx.client, Upstream.VolumeSnapshotClass, snapshotClass, Manager.csiSnapshotter);
}
