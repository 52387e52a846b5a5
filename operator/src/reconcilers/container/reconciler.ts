// Container reconciler (I/O): a Zun container as a Pod on the project's tenant networks. Ports come from
// the instance-ports controller (port/instance-ports.ts) and are bound by the port controller; this one
// waits for them, mounts the container's volumes, keeps one Pod as the spec says (none when Stopped; a
// changed spec or a raised restartGeneration deletes the Pod, and the watch brings the container back to
// create the new one once the old is gone), and reports in Zun's terms. Deleting a container deletes its
// Pod first; its ports go with it afterwards (garbage collection), and their finalizers free the addresses.
import {
  ConditionType,
  Finalizer,
  Reason,
  containerKind,
  serverKind,
  volumeKind,
  type Container,
  type Server,
  type Volume,
} from "../../api/index.js";
import {
  Builtin,
  Controller,
  applyChild,
  ensureFinalizer,
  isInvalid,
  isNotFound,
  keyOf,
  objectKey,
  ownerKeysFor,
  removeFinalizer,
  setCondition,
  watchOf,
  writeStatusIfChanged,
  type ReconcileContext,
  type ReconcileOutcome,
  type EventingControllerDeps,
  WrittenObjects,
} from "../../kube/index.js";
import { networkingSources } from "../network/sources.js";
import {
  containerNetworksAnnotation,
  instancePortKeys,
  networkingWatches,
  resolveNetworking,
} from "../port/instance-networking.js";
import { volumesOfServer } from "../volume/attach.js";
import { volumeClaimants } from "../volume/claimants.js";
import { desiredPod, podIsCurrent, podNameOf, type PodObject } from "./desired.js";
import { containerVerdict, networkingBlocker, type Blocker, type ContainerVerdict, type PortView } from "./status.js";
import { containerPods, containersDeclaring, resolveContainerVolumes } from "./volumes.js";

export const CONTAINER_CONTROLLER = "container";

export type ContainerControllerDeps = EventingControllerDeps;

export function containerController(deps: ContainerControllerDeps): Controller<Container> {
  const { client } = deps;
  const now = deps.now ?? (() => new Date());
  const sources = networkingSources(deps.caches);
  const containers = sources.containers;
  const pods = containerPods(deps.caches);
  const volumes = deps.caches.get<Volume>(volumeKind);
  const written = new WrittenObjects<Container>();

  const declaring = containersDeclaring(containers);
  const servers = deps.caches.get<Server>(serverKind);
  const claimants = volumeClaimants(servers, containers);

  const reconcile = async (key: string, ctx: ReconcileContext<Container>): Promise<ReconcileOutcome> => {
    const cached = written.current(key, ctx.object);
    if (cached === undefined) return undefined; // gone: its Pod and ports went with it (owner references)
    const namespace = cached.metadata.namespace ?? "";
    const podName = podNameOf(cached.metadata.name ?? "");
    const found = pods.get(objectKey(namespace, podName));
    const foreignPod = found !== undefined && !found.metadata.ownerReferences?.some((r) => r.controller === true && r.uid === cached.metadata.uid);
    const pod = foreignPod ? undefined : found;

    if (cached.metadata.deletionTimestamp !== undefined) {
      if (!(cached.metadata.finalizers ?? []).includes(Finalizer.container)) return undefined;
      if (pod === undefined) {
        ctx.log.info("pod gone; releasing the container");
        try {
          await removeFinalizer(client, containerKind, cached, Finalizer.container);
        } catch (e) {
          // Already released by an earlier pass the cache had not shown yet.
          if (!isNotFound(e)) throw e;
        }
        return undefined;
      }
      // The Pod first, so its addresses are not handed out while it still uses them; the Pod watch brings us back.
      if (pod.metadata.deletionTimestamp === undefined) await deletePod(pod, ctx);
      await writeStatus(cached, containerVerdict({ desiredState: "Running", deleting: true, blocker: undefined, pod, podLeaving: true }), ctx);
      return undefined;
    }

    const container = await ensureFinalizer(client, containerKind, cached, Finalizer.container);
    written.remember(cached, container);

    // ---- inputs: networking (ports), volumes ----
    const networking = resolveNetworking(sources, "Container", container);
    const portViews: PortView[] = instancePortKeys(container).map((portKey, i) => ({
      name: portKey.slice(namespace.length + 1),
      explicit: container.spec.networks?.[i]?.portRef !== undefined,
      port: sources.ports.get(portKey),
    }));
    const mounts = resolveContainerVolumes(
      container,
      (name) => volumes.get(objectKey(namespace, name)),
      (name) => claimants(namespace, name),
    );
    let blocker: Blocker | undefined =
      networkingBlocker(networking, portViews) ??
      (mounts.kind === "ok" ? undefined : mounts.kind === "fault" ? mounts : { kind: "waiting", message: mounts.message });
    if (foreignPod) {
      blocker = { kind: "fault", reason: Reason.InvalidSpec, message: `pod ${podName} exists and does not belong to this container; delete or rename it` };
    }

    // ---- the Pod ----
    const desiredState = container.spec.state ?? "Running";
    let current = pod;
    let podLeaving = pod?.metadata.deletionTimestamp !== undefined;
    if (pod !== undefined && !podLeaving && desiredState === "Stopped") {
      await deletePod(pod, ctx);
      deps.events.normal(container, "Stopping", `deleting pod ${podName} (spec.state is Stopped)`);
      podLeaving = true;
    } else if (!podLeaving && desiredState === "Running" && blocker === undefined && networking.state === "ready" && mounts.kind === "ok") {
      const attachments = networking.attachments;
      const desired = desiredPod({
        container,
        networksAnnotation: attachments.length === 0 ? undefined : containerNetworksAnnotation(attachments),
        securityLabels: networking.networking?.podLabels ?? {},
        mounts: mounts.mounts,
      });
      if (pod !== undefined && !podIsCurrent(pod, desired)) {
        // Most of a Pod cannot change: replace it. Its deletion brings us back to create the new one.
        await deletePod(pod, ctx);
        deps.events.normal(container, "Restarting", `replacing pod ${podName}: the spec changed or a restart was asked`);
        podLeaving = true;
      } else {
        try {
          current = await applyChild<PodObject>(client, Builtin.Pod, desired, container, ctx.fieldManager);
          if (pod === undefined) deps.events.normal(container, "Created", `created pod ${podName}`);
        } catch (e) {
          if (!isInvalid(e)) throw e;
          // The apiserver refused the Pod (e.g. a label or environment variable name it does not accept).
          blocker = { kind: "fault", reason: Reason.InvalidSpec, message: `the pod was refused: ${e.message}` };
        }
      }
    }
    // A pod that cannot be built keeps running as it is while the problem is reported (as a server's VM does).

    const verdict = containerVerdict({ desiredState, deleting: false, blocker, pod: current, podLeaving });
    if (verdict.status === "Error" && container.status?.status !== "Error") deps.events.warning(container, verdict.ready.reason, verdict.ready.message);
    await writeStatus(container, verdict, ctx, {
      addresses: networking.state === "ready" ? networking.addresses : container.status?.addresses,
      host: podLeaving ? undefined : current?.spec?.nodeName,
      podName: current === undefined ? undefined : podName,
    });
    return undefined;
  };

  async function deletePod(pod: PodObject, ctx: ReconcileContext<Container>): Promise<void> {
    ctx.log.info({ pod: pod.metadata.name }, "deleting the container's pod");
    await client.delete(Builtin.Pod, pod.metadata.name ?? "", pod.metadata.namespace, { preconditions: { uid: pod.metadata.uid ?? "" } });
  }

  async function writeStatus(
    container: Container,
    verdict: ContainerVerdict,
    ctx: ReconcileContext<Container>,
    observed: Partial<Pick<NonNullable<Container["status"]>, "addresses" | "host" | "podName">> = {},
  ): Promise<void> {
    const generation = container.metadata.generation;
    const status: NonNullable<Container["status"]> = {
      ...container.status,
      ...observed,
      observedGeneration: generation,
      status: verdict.status,
      statusReason: verdict.statusReason,
      conditions: setCondition(container.status?.conditions, { type: ConditionType.Ready, ...verdict.ready, observedGeneration: generation }, now()),
    };
    written.remember(container, await writeStatusIfChanged(client, containerKind, container, status, ctx.fieldManager));
  }

  return new Controller<Container>({
    name: CONTAINER_CONTROLLER,
    cache: containers,
    watches: [
      watchOf(pods, ownerKeysFor(containerKind, { controllerOnly: true })),
      ...networkingWatches(sources, "Container", containers),
      // A volume becoming available (or going) moves the containers that mount it.
      watchOf(volumes, (v) => declaring(keyOf(v)).map(keyOf)),
      // A server declaring or dropping a single-attach volume (or going) may take it from or hand it to a container.
      watchOf(servers, (s) => volumesOfServer(s).flatMap((name) => declaring(objectKey(s.metadata.namespace, name)).map(keyOf))),
    ],
    reconcile,
    logger: deps.logger,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
