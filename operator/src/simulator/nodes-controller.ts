// The kubelets registering: each configured node exists with our labels and a Ready status; a node
// deleted by hand comes back (as a restarted kubelet would re-register), and nodes of ours beyond
// the configured count (from an earlier run) are removed.
import { Builtin, type Controller } from "../kube/index.js";
import { desiredNodes, labelsToFix, nodeObject, nodeStatus } from "./node-state.js";
import { applyStatus, createIfAbsent, simController, type SimContext } from "./runtime.js";
import { Label, Manager, type Node } from "./types.js";

export function nodesController(ctx: SimContext): Controller<Node> {
  const desired = new Map(desiredNodes(ctx.config).map((n) => [n.name, n]));
  const controller = simController<Node>(ctx, {
    name: "sim-nodes",
    cache: ctx.caches.nodes,
    reconcile: async (key, rc) => {
      const want = desired.get(key);
      const node = rc.object;
      if (want === undefined) {
        if (node?.metadata.labels?.[Label.simNode] === "true" && node.metadata.deletionTimestamp === undefined) {
          rc.log.info("removing a simulated node that is no longer configured");
          await ctx.client.delete(Builtin.Node, key, undefined);
        }
        return undefined;
      }
      if (node === undefined) {
        rc.log.info({ zone: want.zone }, "registering node");
        await createIfAbsent(ctx.client, Builtin.Node, nodeObject(want), Manager.kubelet);
        return undefined; // the watch brings the new Node back for its status
      }
      const labels = labelsToFix(node, want);
      if (labels !== undefined) {
        await ctx.client.patch(Builtin.Node, key, undefined, { metadata: { labels } }, "merge", { fieldManager: Manager.kubelet });
      }
      await applyStatus(ctx.client, Builtin.Node, node, nodeStatus(want, ctx.config, node.status, ctx.clock.now()), Manager.kubelet);
      return undefined;
    },
  });
  // Nodes that do not exist yet produce no watch event: start with every configured name queued.
  for (const name of desired.keys()) controller.enqueue(name);
  return controller;
}
