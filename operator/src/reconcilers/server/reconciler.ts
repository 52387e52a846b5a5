// Server reconciler (I/O): admit the server (flavor, image, keypair, networking, cores/RAM quota — nothing
// is created before all of them hold), then keep its KubeVirt VirtualMachine and SSH-key Secret as the
// spec and the server's operations say, drive what KubeVirt has no declarative form for (pause, restart),
// and report in Nova's terms. Deleting a server deletes its VM, which takes the VMI and disks with it.
import {
  ConditionType,
  Finalizer,
  LABELS,
  MANAGED_BY,
  Reason,
  flavorKind,
  imageKind,
  keypairKind,
  projectKind,
  projectNamespace,
  projectOfNamespace,
  serverActionKind,
  serverKind,
  type Flavor,
  type Image,
  type Keypair,
  type Project,
  type Server,
  type ServerAction,
  type ServerStatus,
  type Volume,
  volumeKind,
  containerKind,
  type Container,
} from "../../api/index.js";
import type { PodObject } from "../container/desired.js";
import { containersDeclaring, volumesOfContainer } from "../container/volumes.js";
import { serversDeclaring, volumeClaimants } from "../volume/claimants.js";
import {
  Builtin,
  Controller,
  Upstream,
  applyChild,
  byLabel,
  ensureFinalizer,
  fieldManager,
  formatTime,
  isAlreadyExists,
  isForbidden,
  isNotFound,
  keyOf,
  objectKey,
  ownerKeysFor,
  removeFinalizer,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type KubeObject,
  type ReconcileContext,
  type ReconcileOutcome,
  type ResourceType,
  type EventingControllerDeps,
  WrittenObjects,
} from "../../kube/index.js";
import { resolveImageRef } from "../image/visibility.js";
import { bootVolumeOf, planServerVolumes, volumesDeletedWith } from "../volume/attach.js";
import { novaAddresses, networksSummary } from "./addresses.js";
import { bootVolumeImage, checkBootVolume, desiredBootVolume, isForeignBootVolume } from "./boot-volume.js";
import { launcherPodsToLabel, securityLabelPatch, VIRT_LAUNCHER_CREATED_BY } from "./live-labels.js";
import { vmNameOf, rootDiskName, sshSecretName } from "./names.js";
import { networkingWatchesFor, resolveNetworking } from "./networking.js";
import {
  hasPendingStateChange,
  isLiveVmi,
  observeDisk,
  observeVmi,
  observeVolumeDisk,
  unschedulableMessage,
  vmiRunsFlavor,
  type DataVolumeObject,
  type VmObject,
  type VmiObject,
} from "./observe.js";
import { planOperations, type ActionView, type DiskObservation, type OperationState } from "./operations.js";
import { AdmissionLedger, checkQuota, usageOf, type QuotaLimits, type Usage } from "./quota.js";
import { flavorFitsImage, resolveFlavor, resolveImage, resolveKeypair, type ResolvedFault, type Resolution } from "./resolve.js";
import { DEFAULT_COMPUTE_SETTINGS, type ComputeSettings } from "./settings.js";
import { novaState, readyCondition, runtimeFault, type Fault } from "./status.js";
import { consolePaths, vmiOperation, vmOperation } from "./subresources.js";
import {
  desiredSshSecret,
  desiredVirtualMachine,
  podNetworking,
  rootDiskSizeGiB,
  wantsPaused,
  wantsRunning,
  type NetworkingInput,
} from "./vm.js";
import { requestedAtOf } from "../serveraction/order.js";

export const SERVER_CONTROLLER = "server";

export interface ServerControllerDeps extends EventingControllerDeps {
  settings?: ComputeSettings;
}

const Index = {
  vm: "server:vm",
  flavor: "server:flavor",
  image: "server:image",
  keypair: "server:keypair",
  actions: "server:actions-by-server",
  vmiByUid: "server:vmi-by-uid",
  launcherByVmiUid: "server:launcher-by-vmi-uid",
} as const;

const managedSelector = `${LABELS.managedBy}=${MANAGED_BY}`;

export function serverController(deps: ServerControllerDeps): Controller<Server> {
  const { client } = deps;
  const settings = deps.settings ?? DEFAULT_COMPUTE_SETTINGS;
  const now = deps.now ?? (() => new Date());
  const servers = deps.caches.get<Server>(serverKind);
  const vms = deps.caches.get<VmObject>(Upstream.VirtualMachine, { labelSelector: managedSelector });
  const vmis = deps.caches.get<VmiObject>(Upstream.VirtualMachineInstance, { labelSelector: "altostack.io/server" });
  // virt-launcher pods: KubeVirt labels them with their VMI's uid. They carry the security labels the
  // MultiNetworkPolicies select, which a running server gets in place (relabelLive).
  const launcherPods = deps.caches.get<PodObject>(Builtin.Pod, { labelSelector: VIRT_LAUNCHER_CREATED_BY });
  const dataVolumes = deps.caches.get<DataVolumeObject>(Upstream.DataVolume, { labelSelector: "altostack.io/server" });
  const flavors = deps.caches.get<Flavor>(flavorKind);
  const images = deps.caches.get<Image>(imageKind);
  const keypairs = deps.caches.get<Keypair>(keypairKind);
  const actions = deps.caches.get<ServerAction>(serverActionKind);
  const projects = deps.caches.get<Project>(projectKind);
  const volumes = deps.caches.get<Volume>(volumeKind);
  // Containers hold single-attach volumes too (one rule for both: singleAttachHolder).
  const containers = deps.caches.get<Container>(containerKind);
  const declaringContainers = containersDeclaring(containers);
  /** The attach problems last reported per server, so each is an Event once. */
  const reportedVolumeProblems = new Map<string, string>();
  const ledger = new AdmissionLedger();
  /**
   * The VMI each server was last restarted from. A restart is not idempotent and the VMI cache may lag
   * behind it; a VMI is restarted at most once.
   */
  const restartedVmi = new Map<string, string>();
  const written = new WrittenObjects<Server>();

  servers.addIndex(Index.vm, (s) => [objectKey(s.metadata.namespace, vmNameOf(s.metadata.name ?? ""))]);
  servers.addIndex(Index.flavor, (s) => [...new Set([s.spec.flavorRef, s.status?.flavor?.name].filter((n): n is string => n !== undefined))]);
  servers.addIndex(Index.image, (s) => {
    const ns = s.metadata.namespace ?? "";
    // A volume-backed server keeps image ref "" (it has no image).
    const refs = [s.spec.imageRef, s.status?.image?.ref].filter((r): r is string => r !== undefined && r !== "");
    return [...new Set(refs.map((r) => resolveImageRef(r, ns)).map((t) => objectKey(t.namespace, t.name)))];
  });
  servers.addIndex(Index.keypair, (s) => (s.spec.keypairRef === undefined ? [] : [objectKey(s.metadata.namespace, s.spec.keypairRef)]));
  actions.addIndex(Index.actions, (a) => [objectKey(a.metadata.namespace, a.spec.serverRef)]);
  vmis.addIndex(Index.vmiByUid, (v) => (v.metadata.uid === undefined ? [] : [v.metadata.uid]));
  launcherPods.addIndex(Index.launcherByVmiUid, byLabel(VIRT_LAUNCHER_CREATED_BY));
  // Data volumes and the boot volume: a single-attach volume has one holder whichever way it is declared.
  const serversByVolume = serversDeclaring(servers);
  const declaringServers = (namespace: string | undefined, volumeName: string): Server[] => serversByVolume(objectKey(namespace, volumeName));
  const claimantsOf = volumeClaimants(servers, containers);

  const byVmName = (namespace: string | undefined, vmName: string): string[] =>
    servers.byIndex(Index.vm, objectKey(namespace, vmName)).map(keyOf);
  const ownedByVm = (obj: KubeObject): string[] =>
    (obj.metadata.ownerReferences ?? []).filter((r) => r.kind === "VirtualMachine").flatMap((r) => byVmName(obj.metadata.namespace, r.name));
  /** The server whose VMI a virt-launcher pod runs (the VMI is named as its VM). */
  const launcherOwners = (pod: PodObject): string[] =>
    vmis
      .byIndex(Index.vmiByUid, pod.metadata.labels?.[VIRT_LAUNCHER_CREATED_BY] ?? "")
      .filter((vmi) => vmi.metadata.namespace === pod.metadata.namespace)
      .flatMap((vmi) => byVmName(vmi.metadata.namespace, vmi.metadata.name ?? ""));
  /** Servers that wait for room in the quota of this namespace. */
  const unadmitted = (namespace: string | undefined): string[] =>
    namespace === undefined ? [] : servers.list(namespace).filter((s) => s.status?.flavor === undefined).map(keyOf);

  function quotaLimits(namespace: string): QuotaLimits {
    const project = projectOfNamespace(namespace);
    const quotas = project === undefined ? undefined : projects.get(project)?.status?.quotas;
    return { cores: quotas?.cores, ram: quotas?.ram };
  }

  /** What the project's admitted servers hold, by server key. */
  function cachedUsage(namespace: string): Map<string, Usage> {
    const usage = new Map<string, Usage>();
    for (const s of servers.list(namespace)) {
      if (s.status?.flavor !== undefined) usage.set(keyOf(s), usageOf(s.status.flavor, s.status.resize?.oldFlavor));
    }
    return usage;
  }

  const imageLookup = (namespace: string, name: string): Image | undefined => images.get(objectKey(namespace, name));

  const reconcile = async (key: string, ctx: ReconcileContext<Server>): Promise<ReconcileOutcome> => {
    const cached = written.current(key, ctx.object);
    if (cached === undefined) {
      // Gone: its VM went with it (ownerReference); release what it held in the quota.
      ledger.forget(ctx.namespace ?? "", key);
      restartedVmi.delete(key);
      reportedVolumeProblems.delete(key);
      return undefined;
    }
    const namespace = cached.metadata.namespace ?? "";
    const vmName = vmNameOf(cached.metadata.name ?? "");
    const vm = vms.get(objectKey(namespace, vmName));

    if (cached.metadata.deletionTimestamp !== undefined) {
      await reconcileDelete(cached, vm, ctx);
      return undefined;
    }
    let server = await ensureFinalizer(client, serverKind, cached, Finalizer.server);
    written.remember(cached, server);
    const uid = server.metadata.uid ?? "";

    // ---- admission: everything checked before anything is created ----
    let state = operationStateOf(server);
    const networking = resolveNetworking(server, { caches: deps.caches });
    if (state === undefined) {
      const admission = await ledger.exclusive(namespace, async () => {
        const verdict = admit(server, networking);
        if (verdict.kind !== "ok") return verdict;
        const { state: admittedState, bootVolume } = verdict.value;
        // Recorded before anything is created: the status is the admission, and the quota counts it.
        ledger.record(namespace, key, usageOf(admittedState.flavor));
        const admitted = await writeStatus(server, {
          ...server.status,
          ...stateFields(admittedState),
          bootVolume,
          fault: undefined,
          status: "BUILD",
          taskState: "scheduling",
          vmState: "building",
          virtualMachine: vmName,
        });
        const root = bootVolume === undefined ? `image ${admittedState.image.ref}` : `boot volume ${bootVolume}`;
        deps.events.normal(server, "Admitted", `flavor ${admittedState.flavor.name} and ${root} checked; building`);
        return { kind: "ok" as const, value: { state: admittedState, server: admitted ?? server } };
      });
      if (admission.kind === "createBootVolume") {
        const refused = await createBootVolume(server, admission.volume, ctx);
        await reportUnadmitted(server, refused === undefined ? { kind: "waiting", message: admission.message } : { kind: "fault", fault: refused }, ctx);
        return undefined;
      }
      if (admission.kind !== "ok") {
        await reportUnadmitted(server, admission, ctx);
        return undefined;
      }
      state = admission.value.state;
      server = admission.value.server;
    }

    // ---- operations (resize, rebuild, actions) ----
    const vmi = vmis.get(objectKey(namespace, vmName));
    const liveVmi = isLiveVmi(vmi) ? vmi : undefined;
    const desiredPower = server.spec.powerState ?? "Active";
    const running = wantsRunning(desiredPower);
    const views = actions.byIndex(Index.actions, key).map(actionView);
    const diskOf = (name: string) => rootDiskOf(server, name, vmi);
    const currentVmState = novaState(observation(server, state, vmi, diskOf(state.rootDisk), undefined)).vmState;
    const plan = planOperations({
      vmName,
      serverId: uid,
      spec: { flavorRef: server.spec.flavorRef, imageRef: server.spec.imageRef },
      state,
      actions: views,
      wantsRunning: running,
      vmState: currentVmState,
      flavorFor: (name) => resolveFlavor(name, namespace, flavors.get(name)),
      imageFor: (ref) => resolveImage(ref, namespace, imageLookup),
      quota: (requested) => checkQuota(quotaLimits(namespace), ledger.used(namespace, cachedUsage(namespace), key), requested),
      flavorApplied: (flavor) => (running ? liveVmi?.status?.phase === "Running" && vmiRunsFlavor(liveVmi, flavor) : liveVmi === undefined),
      disk: diskOf,
      volumeBacked: server.status?.bootVolume !== undefined,
    });
    state = plan.state;
    ledger.record(namespace, key, usageOf(state.flavor, state.resize?.oldFlavor));

    // ---- children ----
    if (networking.kind !== "ok") {
      // Networking broke after admission (e.g. a port went): keep the VM as it is and report.
      await reportNetworking(server, networking, ctx);
      return undefined;
    }
    const appliedVm = await applyChildren(server, state, networking.value, ctx);
    await growRootDisk(server, state, ctx);
    for (const disk of plan.deleteDisks) {
      ctx.log.info({ dataVolume: disk }, "deleting the replaced root disk");
      await client.delete(Upstream.DataVolume, disk, namespace);
    }
    await driveGuest(server, liveVmi, plan.restartWanted && !hasPendingStateChange(appliedVm) && !hasPendingStateChange(vm), ctx);

    // ---- status ----
    const status = serverStatusOf(server, state, plan.blocked, vm, vmi, networking.value, views);
    await writeStatus(server, status);
    // After the status: a refused relabel (an error, retried) must not hold the server's status back.
    await relabelLive(liveVmi, networking.value?.podLabels ?? {}, ctx);
    return undefined;
  };

  /** The SSH-key Secret and the VirtualMachine; returns the VM as the apiserver has it now. */
  async function applyChildren(
    server: Server,
    state: OperationState,
    networking: NetworkingInput | undefined,
    ctx: ReconcileContext<Server>,
  ): Promise<VmObject> {
    const namespace = server.metadata.namespace ?? "";
    const vmName = vmNameOf(server.metadata.name ?? "");
    const keypairRef = server.spec.keypairRef;
    const secretName = keypairRef === undefined ? undefined : sshSecretName(vmName);
    const keypair = keypairRef === undefined ? undefined : keypairs.get(objectKey(namespace, keypairRef));
    const publicKey = keypairRef === undefined || keypair === undefined ? undefined : resolveKeypair(keypairRef, keypair);
    // A keypair deleted after the server was built leaves its Secret as it was (Nova keeps the key in the
    // instance too); the VM keeps pointing at it.
    if (secretName !== undefined && publicKey?.kind === "ok") {
      await applyChild(client, Builtin.Secret, desiredSshSecret(server, secretName, publicKey.value), server, ctx.fieldManager);
    }
    const attach = planServerVolumes({
      server,
      volume: (name) => volumes.get(objectKey(namespace, name)),
      holders: (name) => declaringServers(namespace, name),
      containers: (name) => declaringContainers(objectKey(namespace, name)),
      currentVm: vms.get(objectKey(namespace, vmName)),
      vmRunning: isLiveVmi(vmis.get(objectKey(namespace, vmName))),
    });
    const problems = attach.problems.join(" ");
    if (problems !== (reportedVolumeProblems.get(keyOf(server)) ?? "")) {
      reportedVolumeProblems.set(keyOf(server), problems);
      if (problems !== "") deps.events.warning(server, "VolumeAttachPending", problems);
    }
    const desired = desiredVirtualMachine({
      server,
      vmName,
      flavor: state.flavor,
      image: state.image,
      rootDisk: state.rootDisk,
      sshSecret: secretName,
      networking,
      storage: { accessModes: settings.diskAccessModes, storageClassName: settings.storageClassName },
      dataVolumes: attach.volumes,
      bootVolumeClaim: server.status?.bootVolume === undefined ? undefined : state.rootDisk,
    });
    return applyChild<VmObject>(client, Upstream.VirtualMachine, desired, server, ctx.fieldManager);
  }

  /**
   * A running server's security labels as its ports want them now, on its VMI and virt-launcher pod(s):
   * KubeVirt copies the VM template's labels only when it creates the VMI. Metadata-only merge patches,
   * written only where the labels differ; the VMI and pod watches bring the server back when they change.
   */
  async function relabelLive(liveVmi: VmiObject | undefined, wanted: Readonly<Record<string, string>>, ctx: ReconcileContext<Server>): Promise<void> {
    if (liveVmi === undefined) return;
    const namespace = liveVmi.metadata.namespace ?? "";
    const uid = liveVmi.metadata.uid ?? "";
    const targets: { rt: ResourceType; object: KubeObject }[] = [
      { rt: Upstream.VirtualMachineInstance, object: liveVmi },
      ...launcherPodsToLabel(launcherPods.byIndex(Index.launcherByVmiUid, uid), { namespace, uid }).map((object) => ({ rt: Builtin.Pod, object })),
    ];
    for (const { rt, object } of targets) {
      const labels = securityLabelPatch(object.metadata.labels, wanted);
      if (labels === undefined) continue;
      const name = object.metadata.name ?? "";
      ctx.log.info({ [rt.kind]: name, labels }, "relabelling the running server for its security groups");
      try {
        await client.patch(rt, name, namespace, { metadata: { labels } }, "merge", { fieldManager: ctx.fieldManager });
      } catch (err) {
        // Gone meanwhile (stopped, migrated): nothing left to filter; a new one is labelled from the template.
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Restart (for a new flavor or root disk), pause and unpause: KubeVirt's imperative calls. */
  async function driveGuest(server: Server, liveVmi: VmiObject | undefined, restartWanted: boolean, ctx: ReconcileContext<Server>): Promise<void> {
    if (liveVmi?.status?.phase !== "Running") return;
    const namespace = server.metadata.namespace ?? "";
    const key = keyOf(server);
    const vmiName = liveVmi.metadata.name ?? "";
    const vmiUid = liveVmi.metadata.uid ?? "";
    const desiredPower = server.spec.powerState ?? "Active";
    if (restartWanted && restartedVmi.get(key) !== vmiUid) {
      ctx.log.info("restarting the VM to apply the new flavor or root disk");
      restartedVmi.set(key, vmiUid);
      await vmOperation(client, namespace, vmiName, "restart");
      return;
    }
    const observed = observeVmi(liveVmi);
    if (!wantsRunning(desiredPower) || observed?.migrating === true) return;
    if (wantsPaused(desiredPower) && observed?.paused !== true) await vmiOperation(client, namespace, vmiName, "pause", {});
    if (!wantsPaused(desiredPower) && observed?.paused === true) await vmiOperation(client, namespace, vmiName, "unpause", {});
  }

  /** The status Nova clients and kubectl read, from the operations' state and what KubeVirt reports. */
  function serverStatusOf(
    server: Server,
    state: OperationState,
    blocked: { reason: string; message: string } | undefined,
    vm: VmObject | undefined,
    vmi: VmiObject | undefined,
    networking: NetworkingInput | undefined,
    views: readonly ReturnType<typeof actionView>[],
  ): ServerStatus {
    const namespace = server.metadata.namespace ?? "";
    const vmName = vmNameOf(server.metadata.name ?? "");
    const disk = rootDiskOf(server, state.rootDisk, vmi);
    const fault = runtimeFault({
      serverId: server.metadata.uid ?? "",
      rootDisk: state.rebuild === undefined ? { phase: disk.phase, message: disk.failure } : undefined,
      printableStatus: vm?.status?.printableStatus,
      unschedulable: unschedulableMessage(vmi),
      vmiPhase: vmi?.status?.phase,
    });
    const current = state.currentAction;
    const action = current === undefined ? undefined : { action: current.action, type: views.find((a) => a.name === current.name)?.type };
    const nova = novaState(observation(server, state, vmi, disk, action, fault));
    const live = isLiveVmi(vmi) ? vmi : undefined;
    const host = live?.status?.nodeName;
    const addresses = live === undefined ? {} : novaAddresses(live.status?.interfaces, networking ?? podNetworking());
    const hasAddresses = Object.keys(addresses).length > 0;
    const running = live?.status?.phase === "Running";
    if (fault !== undefined && server.status?.fault?.message !== fault.message) deps.events.warning(server, "Fault", fault.message);
    const verdict = readyCondition({
      nova,
      fault: fault === undefined ? undefined : { ...fault, reason: Reason.ServerError },
      waiting: undefined,
      blocked,
      host,
    });
    return {
      ...server.status,
      ...stateFields(state),
      observedGeneration: server.metadata.generation,
      status: nova.status,
      vmState: nova.vmState,
      taskState: nova.taskState,
      powerState: nova.powerState,
      host,
      launchedAt: server.status?.launchedAt ?? (running ? formatTime(now().getTime()) : undefined),
      // An empty map would be applied as null (server-side apply drops empty maps): leave it out instead.
      addresses: hasAddresses ? addresses : undefined,
      networksSummary: hasAddresses ? networksSummary(addresses) : undefined,
      fault: faultStatus(fault, server.status?.fault, now()),
      virtualMachine: vmName,
      console: running ? consolePaths(namespace, live.metadata.name ?? vmName) : undefined,
      conditions: setCondition(
        server.status?.conditions,
        { type: ConditionType.Ready, ...verdict, observedGeneration: server.metadata.generation },
        now(),
      ),
    };
  }

  /**
   * Flavor, image (or boot volume), keypair, networking and quota, in the order Nova checks them; the first
   * failure wins. A server booting from a new volume asks for it once everything else holds.
   */
  function admit(server: Server, networking: Resolution<NetworkingInput | undefined>): Admission {
    const namespace = server.metadata.namespace ?? "";
    const flavor = resolveFlavor(server.spec.flavorRef, namespace, flavors.get(server.spec.flavorRef));
    if (flavor.kind !== "ok") return flavor;
    const boot = server.spec.bootVolume;
    // Image-backed: the image the root disk is cloned from. Volume-backed from an image: the volume's source.
    const imageRef = boot === undefined ? (server.spec.imageRef ?? "") : boot.imageRef;
    const image = imageRef === undefined ? undefined : resolveImage(imageRef, namespace, imageLookup);
    if (image !== undefined && image.kind !== "ok") return image;
    if (boot === undefined && image !== undefined) {
      // Nova checks the flavor's disk against the image only for a root disk the flavor sizes.
      const target = resolveImageRef(imageRef ?? "", namespace);
      const minRam = imageLookup(target.namespace, target.name)?.spec.minRam;
      const misfit = flavorFitsImage(flavor.value, image.value, minRam === 0 ? undefined : minRam);
      if (misfit !== undefined) return { kind: "fault", fault: misfit };
    }
    if (server.spec.keypairRef !== undefined) {
      const keypair = resolveKeypair(server.spec.keypairRef, keypairs.get(objectKey(namespace, server.spec.keypairRef)));
      if (keypair.kind !== "ok") return keypair;
    }
    if (networking.kind !== "ok") return networking;
    const over = checkQuota(
      quotaLimits(namespace),
      ledger.used(namespace, cachedUsage(namespace), objectKey(namespace, server.metadata.name ?? "")),
      usageOf(flavor.value),
    );
    if (over !== undefined) return { kind: "fault", fault: { code: 403, reason: Reason.QuotaExceeded, message: over.message } };
    const operations = { resize: undefined, rebuild: undefined, currentAction: undefined };
    const bootVolume = bootVolumeOf(server);
    if (bootVolume === undefined) {
      if (image === undefined) return { kind: "fault", fault: { code: 400, reason: Reason.InvalidSpec, message: "Missing imageRef attribute." } };
      const rootDisk = rootDiskName(vmNameOf(server.metadata.name ?? ""));
      return { kind: "ok", value: { state: { flavor: flavor.value, image: image.value, rootDisk, ...operations }, bootVolume: undefined } };
    }
    const volume = volumes.get(objectKey(namespace, bootVolume));
    if (volume === undefined && image !== undefined) {
      return {
        kind: "createBootVolume",
        volume: desiredBootVolume(server, bootVolume, image.value, flavor.value),
        message: `creating the boot volume ${bootVolume} from image ${image.value.ref}`,
      };
    }
    const checked = checkBootVolume({ server, name: bootVolume, volume, claimants: claimantsOf(namespace, bootVolume) });
    if (checked.kind !== "ok") return checked;
    // The VM is shaped by the image the volume was made from, when that image is still there to read.
    const volumeImageRef = volume?.spec.source?.imageRef;
    const sourceImage = image ?? (volumeImageRef === undefined ? undefined : resolveImage(volumeImageRef, namespace, imageLookup));
    const rootImage = bootVolumeImage(namespace, sourceImage?.kind === "ok" ? sourceImage.value : undefined);
    return { kind: "ok", value: { state: { flavor: flavor.value, image: rootImage, rootDisk: checked.value.claimName, ...operations }, bootVolume } };
  }

  /** The root disk as operations and status see it: its DataVolume, or (volume-backed) the boot volume's claim. */
  function rootDiskOf(server: Server, name: string, vmi: VmiObject | undefined): DiskObservation {
    if (server.status?.bootVolume !== undefined && name === server.status.rootDisk) return observeVolumeDisk(vmi, name);
    return observeDisk(dataVolumes.get(objectKey(server.metadata.namespace, name)), vmi, name);
  }

  /**
   * The Volume a server boots from, made from its image (once: afterwards it is the user's to extend).
   * The project's volume quota refusing it is the server's fault, as Nova's build fails on it.
   */
  async function createBootVolume(server: Server, volume: Volume, ctx: ReconcileContext<Server>): Promise<ResolvedFault | undefined> {
    try {
      await client.create(volumeKind, volume, { fieldManager: ctx.fieldManager });
      ctx.log.info({ volume: volume.metadata.name }, "created the boot volume from the image");
    } catch (err) {
      if (isAlreadyExists(err)) return undefined;
      if (!isForbidden(err)) throw err;
      const why = err instanceof Error ? err.message : String(err);
      return {
        code: 403,
        // The apiserver says "exceeded quota" for the project's ResourceQuota; anything else is a refusal.
        reason: /exceeded quota/i.test(why) ? Reason.QuotaExceeded : Reason.ReconcileError,
        message: `Build of instance ${server.metadata.uid ?? ""} aborted: the boot volume ${volume.metadata.name ?? ""} could not be created: ${why}`,
      };
    }
    return undefined;
  }

  async function reportUnadmitted(
    server: Server,
    result: { kind: "fault"; fault: ResolvedFault } | { kind: "waiting"; message: string },
    ctx: ReconcileContext<Server>,
  ): Promise<void> {
    const fault = result.kind === "fault" ? result.fault : undefined;
    if (fault !== undefined && server.status?.fault?.message !== fault.message) {
      deps.events.warning(server, fault.reason, fault.message);
      ctx.log.info({ code: fault.code, reason: fault.reason }, "server not admitted");
    }
    const nova = novaState(observation(server, undefined, undefined, undefined, undefined, fault));
    const verdict = readyCondition({
      nova,
      fault,
      waiting: result.kind === "waiting" ? result.message : undefined,
      blocked: undefined,
      host: undefined,
    });
    await writeStatus(server, {
      ...server.status,
      observedGeneration: server.metadata.generation,
      status: nova.status,
      vmState: nova.vmState,
      taskState: nova.taskState,
      powerState: nova.powerState,
      fault: faultStatus(fault, server.status?.fault, now()),
      conditions: setCondition(
        server.status?.conditions,
        { type: ConditionType.Ready, ...verdict, observedGeneration: server.metadata.generation },
        now(),
      ),
    });
  }

  async function reconcileDelete(server: Server, vm: VmObject | undefined, ctx: ReconcileContext<Server>): Promise<void> {
    const namespace = server.metadata.namespace ?? "";
    if (vm !== undefined) {
      if (vm.metadata.deletionTimestamp === undefined) {
        ctx.log.info("deleting the VirtualMachine and its disks");
        // Foreground: the VM stays until its VMI and DataVolumes are gone, so the server does too.
        await client.delete(Upstream.VirtualMachine, vm.metadata.name ?? "", namespace, { propagationPolicy: "Foreground" });
      }
      const status: ServerStatus = { ...server.status, taskState: "deleting" };
      await writeStatus(server, status);
      return; // the VM watch brings us back when it is gone
    }
    // The VM no longer uses them; the volumes' own deletion waits until this server is gone.
    for (const volumeName of volumesDeletedWith(server)) {
      // A same-named volume the server did not make is never its to delete.
      if (isForeignBootVolume(server, volumeName, volumes.get(objectKey(namespace, volumeName)))) continue;
      if (await client.delete(volumeKind, volumeName, namespace)) ctx.log.info({ volume: volumeName }, "deleting the volume with the server (deleteOnTermination)");
    }
    ledger.forget(namespace, keyOf(server));
    await removeFinalizer(client, serverKind, server, Finalizer.server);
  }

  /** A resize to a bigger root disk expands the PVC (online, as CSI allows); nothing ever shrinks. */
  async function growRootDisk(server: Server, state: OperationState, ctx: ReconcileContext<Server>): Promise<void> {
    // A volume-backed server's flavor does not size its root disk (Nova ignores root_gb for it).
    if (server.status?.bootVolume !== undefined) return;
    if (state.resize === undefined || state.resize.stage === "VerifyResize") return;
    const size = rootDiskSizeGiB(state.flavor, state.image);
    const before = rootDiskSizeGiB(state.resize.oldFlavor, state.image);
    if (size === undefined || (before !== undefined && size <= before)) return;
    const dv = dataVolumes.get(objectKey(server.metadata.namespace, state.rootDisk));
    if (dv?.status?.phase !== "Succeeded") return;
    ctx.log.info({ claim: state.rootDisk, sizeGiB: size }, "expanding the root disk for the resize");
    await client.patch(
      Builtin.PersistentVolumeClaim,
      state.rootDisk,
      server.metadata.namespace,
      { spec: { resources: { requests: { storage: `${size}Gi` } } } },
      "merge",
      { fieldManager: ctx.fieldManager },
    );
  }

  async function writeStatus(server: Server, status: ServerStatus): Promise<Server | undefined> {
    const after = await writeStatusIfChanged(client, serverKind, server, status, fieldManager(SERVER_CONTROLLER));
    written.remember(server, after);
    return after;
  }

  async function reportNetworking(
    server: Server,
    networking: { kind: "fault"; fault: ResolvedFault } | { kind: "waiting"; message: string },
    ctx: ReconcileContext<Server>,
  ): Promise<void> {
    const message = networking.kind === "fault" ? networking.fault.message : networking.message;
    ctx.log.info({ networking: networking.kind }, "networking not ready; the VM is left as it is");
    const verdict = { status: "False" as const, reason: networking.kind === "fault" ? networking.fault.reason : Reason.DependencyNotReady, message };
    await writeStatus(server, {
      ...server.status,
      observedGeneration: server.metadata.generation,
      conditions: setCondition(
        server.status?.conditions,
        { type: ConditionType.Ready, ...verdict, observedGeneration: server.metadata.generation },
        now(),
      ),
    });
  }

  return new Controller<Server>({
    name: SERVER_CONTROLLER,
    cache: servers,
    watches: [
      watchOf(vms, ownerKeysFor(serverKind)),
      watchOf(vmis, (vmi) => byVmName(vmi.metadata.namespace, vmi.metadata.name ?? "")),
      watchOf(launcherPods, launcherOwners),
      watchOf(dataVolumes, ownedByVm),
      watchOf(flavors, (f) => servers.byIndex(Index.flavor, f.metadata.name ?? "").map(keyOf)),
      watchOf(images, (i) => servers.byIndex(Index.image, keyOf(i)).map(keyOf)),
      watchOf(keypairs, (k) => servers.byIndex(Index.keypair, keyOf(k)).map(keyOf)),
      watchOf(actions, (a) => [objectKey(a.metadata.namespace, a.spec.serverRef)]),
      watchOf(projects, (p) => unadmitted(projectNamespace(p.metadata.name ?? ""))),
      // A server that goes (or shrinks) may make room for one waiting on the quota.
      watchOf(servers, (s) => unadmitted(s.metadata.namespace).filter((k) => k !== keyOf(s))),
      // Ports, their networks and subnets: a server waiting for networking continues once they are ready.
      ...networkingWatchesFor(deps.caches, servers),
      // Volumes becoming available are attached; a single-attach volume released by one server goes to the next.
      watchOf(volumes, (v) => declaringServers(v.metadata.namespace, v.metadata.name ?? "").map(keyOf)),
      // A container declaring or dropping a single-attach volume (or going) may take it from or hand it to a server.
      watchOf(containers, (c) =>
        volumesOfContainer(c).flatMap((name) => declaringServers(c.metadata.namespace, name).map(keyOf)),
      ),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}

/** An admission: the state a server is built with, or a boot volume to create first, or why not yet. */
type Admission =
  | Resolution<{ state: OperationState; bootVolume: string | undefined }>
  | { kind: "createBootVolume"; volume: Volume; message: string };

function operationStateOf(server: Server): OperationState | undefined {
  const s = server.status;
  if (s?.flavor === undefined || s.image === undefined || s.rootDisk === undefined) return undefined;
  return {
    flavor: s.flavor,
    image: s.image,
    rootDisk: s.rootDisk,
    resize: s.resize,
    rebuild: s.rebuild,
    currentAction: s.currentAction,
    rebuildFailure: s.rebuildFailure,
  };
}

function stateFields(state: OperationState): Partial<ServerStatus> {
  return {
    flavor: state.flavor,
    image: state.image,
    rootDisk: state.rootDisk,
    resize: state.resize,
    rebuild: state.rebuild,
    currentAction: state.currentAction,
    rebuildFailure: state.rebuildFailure,
  };
}

function actionView(action: ServerAction): ActionView & { type?: string | undefined } {
  return {
    name: action.metadata.name ?? "",
    action: action.spec.action,
    phase: action.status?.phase,
    requestedAt: requestedAtOf(action),
    flavorRef: action.spec.flavorRef,
    imageRef: action.spec.imageRef,
    type: action.spec.type,
  };
}

function faultStatus(fault: Fault | undefined, previous: ServerStatus["fault"], now: Date): ServerStatus["fault"] {
  if (fault === undefined) return undefined;
  // Keep the time the fault first appeared while it stays the same.
  const created = previous?.message === fault.message && previous.created !== undefined ? previous.created : formatTime(now.getTime());
  return { code: fault.code, message: fault.message, created };
}

function observation(
  server: Server,
  state: OperationState | undefined,
  vmi: VmiObject | undefined,
  disk: { phase: string | undefined } | undefined,
  action: { action: string; type?: string | undefined } | undefined,
  fault?: Fault,
): Parameters<typeof novaState>[0] {
  return {
    desiredPower: server.spec.powerState ?? "Active",
    deleting: server.metadata.deletionTimestamp !== undefined,
    admitted: state !== undefined,
    fault,
    rootDiskPhase: disk?.phase,
    vmi: observeVmi(vmi),
    launched: server.status?.launchedAt !== undefined,
    resizeStage: state?.resize?.stage,
    rebuilding: state?.rebuild !== undefined,
    action,
  };
}
