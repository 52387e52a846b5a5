// kube-scheduler, the kubelets and Multus for Pods: pending pods are bound to a feasible node through
// the binding subresource; the node's kubelet reports them Running with an IP from the node's pod
// range (after Multus wrote network-status for the attachments they ask for); pods being deleted are
// removed once their (instant) containers stopped. No containers run and probes are not evaluated.
import { apiPath, Builtin, keyOf, objectKey, watchOf, type Controller } from "../kube/index.js";
import { formatNetworkStatus, networkStatus, parseNetworkSelections } from "./multus.js";
import { podStatus, unschedulableStatus } from "./pod-state.js";
import { applyStatus, Index, keysWhere, PhaseClock, placedWorkloads, placementKey, simController, type SimContext } from "./runtime.js";
import { loadByNode, pickNode, turnedAway } from "./scheduling.js";
import { afterDelay } from "./timeline.js";
import { Annotation, Label, Manager, type Binding, type Pod } from "./types.js";

/** The status fields a kubelet writes. */
const KUBELET_OWNED = [
  "phase",
  "conditions",
  "hostIP",
  "hostIPs",
  "podIP",
  "podIPs",
  "startTime",
  "containerStatuses",
  "initContainerStatuses",
] as const;

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export function podsController(ctx: SimContext): Controller<Pod> {
  const { caches, client, config } = ctx;
  const phases = new PhaseClock(ctx.clock);

  async function bind(pod: Pod, nodeName: string): Promise<void> {
    const binding: Binding = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name: pod.metadata.name ?? "", namespace: pod.metadata.namespace ?? "", uid: pod.metadata.uid ?? "" },
      target: { apiVersion: "v1", kind: "Node", name: nodeName },
    };
    await client.request({
      method: "POST",
      path: apiPath(Builtin.Pod, pod.metadata.namespace, pod.metadata.name, "binding"),
      body: binding,
      query: { fieldManager: Manager.scheduler },
    });
  }

  /** Pods the scheduler turned away (PodScheduled=False): a workload leaving or arriving may let them in. */
  function unscheduled(): string[] {
    return keysWhere(
      caches.pods,
      (p) => (p.spec?.nodeName ?? "") === "" && turnedAway(p.status?.conditions),
    );
  }

  return simController<Pod>(ctx, {
    name: "sim-pods",
    cache: caches.pods,
    watches: [
      // New or changed nodes: unscheduled pods may fit now, and pods bound to a node may get a kubelet.
      watchOf(caches.nodes, (node) =>
        keysWhere(caches.pods, (p) => (p.spec?.nodeName ?? "") === "" || (p.spec?.nodeName === node.metadata.name && p.status?.phase !== "Running")),
      ),
      watchOf(caches.nads, (nad) => caches.pods.byIndex(Index.networks, keyOf(nad)).map(keyOf)),
      // Workloads on a node coming, going or finishing change what pod (anti-)affinity allows.
      watchOf(caches.pods, (p) => ((p.spec?.nodeName ?? "") === "" ? [] : unscheduled())),
      watchOf(caches.vmis, (v) => ((v.status?.nodeName ?? "") === "" ? [] : unscheduled())),
    ],
    reconcile: async (key, rc) => {
      const pod = rc.object;
      if (pod === undefined) {
        ctx.placements.forget(placementKey.pod(key));
        ctx.addresses.release(`pod:${key}`);
        phases.forget(key);
        return undefined;
      }
      const name = pod.metadata.name ?? "";
      const namespace = pod.metadata.namespace ?? "";
      const nodeName = pod.spec?.nodeName ?? "";
      const node = nodeName === "" ? undefined : caches.nodes.get(nodeName);
      const ourKubelet = node?.metadata.labels?.[Label.simNode] === "true";
      const now = ctx.clock.now();

      if (pod.metadata.deletionTimestamp !== undefined) {
        if (!ourKubelet) return undefined;
        const wait = afterDelay("gone", phases.since(pod, "Terminating"), config.delays.podStop, now);
        if (wait.kind === "wait") return { requeueAfterMs: wait.waitMs };
        rc.log.info("containers stopped; removing pod");
        ctx.addresses.release(`pod:${key}`);
        await client.delete(Builtin.Pod, name, namespace, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid ?? "" } });
        return undefined;
      }
      if (isTerminal(pod)) return undefined;

      if (nodeName === "") {
        if ((pod.spec?.schedulerName ?? "default-scheduler") !== "default-scheduler") return undefined;
        const placed = placedWorkloads(ctx);
        const uid = pod.metadata.uid ?? "";
        const result = pickNode(
          caches.nodes.list(),
          { nodeSelector: pod.spec?.nodeSelector, affinity: pod.spec?.affinity, namespace, labels: pod.metadata.labels },
          loadByNode(placed.filter((w) => w.uid !== uid).map((w) => w.nodeName)),
          undefined,
          placed,
          uid,
        );
        if (result.node === undefined) {
          rc.log.info({ reason: result.message }, "pod unschedulable");
          await applyStatus(client, Builtin.Pod, pod, unschedulableStatus(pod, result.message, now), Manager.scheduler, {
            owned: ["phase", "conditions"],
          });
          return undefined;
        }
        rc.log.info({ node: result.node.metadata.name }, "binding pod");
        ctx.placements.assume(placementKey.pod(key), uid, result.node.metadata.name ?? "");
        await bind(pod, result.node.metadata.name ?? "");
        return undefined;
      }
      ctx.placements.forget(placementKey.pod(key));
      if (node === undefined || !ourKubelet) return undefined;

      // Multus sets the pod's networks up before its containers start; a missing NAD stops the sandbox.
      const selections = parseNetworkSelections(pod.metadata.annotations?.[Annotation.multusNetworks], namespace);
      let sandboxProblem: string | undefined;
      if (!selections.ok) sandboxProblem = selections.message;
      else {
        const missing = selections.selections.find((s) => caches.nads.get(objectKey(s.namespace, s.name)) === undefined);
        if (missing !== undefined) {
          sandboxProblem = `Multus: cannot find a network-attachment-definition (${missing.name}) in namespace (${missing.namespace}): network-attachment-definitions.k8s.cni.cncf.io "${missing.name}" not found`;
        }
      }
      const hostIp = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "";
      const started = afterDelay("running", phases.since(pod, "Pending"), config.delays.podStart, now);
      const running = sandboxProblem === undefined && started.kind === "advance";
      const cidr = node.spec?.podCIDR;
      const podIp = !running ? undefined : pod.spec?.hostNetwork === true ? hostIp : cidr === undefined ? undefined : ctx.addresses.acquire(`pod:${key}`, cidr);
      if (sandboxProblem !== undefined) rc.log.info({ reason: sandboxProblem }, "pod sandbox cannot start");

      if (running && podIp !== undefined && selections.ok && selections.selections.length > 0) {
        const text = formatNetworkStatus(networkStatus(pod.metadata.uid ?? "", podIp, selections.selections));
        if (pod.metadata.annotations?.[Annotation.multusNetworkStatus] !== text) {
          await client.patch(Builtin.Pod, name, namespace, { metadata: { annotations: { [Annotation.multusNetworkStatus]: text } } }, "merge", {
            fieldManager: Manager.multus,
          });
        }
      }
      const status = podStatus(pod, { hostIp, podIp, now, running, imagePullFailures: config.failures.invalidHostImports });
      if (running && pod.status?.phase !== "Running") rc.log.info({ podIP: podIp, node: nodeName }, "pod running");
      await applyStatus(client, Builtin.Pod, pod, status, Manager.kubelet, { owned: KUBELET_OWNED });
      return started.kind === "wait" && sandboxProblem === undefined ? { requeueAfterMs: started.waitMs } : undefined;
    },
  });
}
