// THE place the networking reconcilers plug into servers. A server's `networks` (ports, networks) become
// the VM's interfaces, Multus networks and config-drive network data here; the VM builder takes the result
// as its `networking` input and status.addresses maps interfaces back to network names through it.
import { Reason, type Server } from "../../api/index.js";
import type { CacheSet, SecondaryWatch, WatchCache } from "../../kube/index.js";
import { networkingSources } from "../network/sources.js";
import { networkingWatches, resolveNetworking as resolveInstanceNetworking } from "../port/instance-networking.js";
import type { Resolution } from "./resolve.js";
import type { NetworkingInput } from "./vm.js";

export interface NetworkingContext {
  caches: CacheSet;
}

/**
 * The server's networking, or undefined for the pod network (masquerade) alone (a server without
 * `networks`). A fault (a port bound to another server, an address that cannot be allocated) puts the server
 * in ERROR; waiting (ports being created, allocated, bound; NADs being attached) keeps it in BUILD.
 * The resolved networking also carries `podLabels` for the VM template: the security groups'
 * MultiNetworkPolicies select the server's virt-launcher pod through them.
 */
export function resolveNetworking(server: Server, ctx: NetworkingContext): Resolution<NetworkingInput | undefined> {
  const resolution = resolveInstanceNetworking(networkingSources(ctx.caches), "Server", server);
  switch (resolution.state) {
    case "pending":
      return { kind: "waiting", message: resolution.message };
    case "failed":
      // Nova refuses a port in use with 409; other network build failures are a 500 fault on the server.
      return {
        kind: "fault",
        fault: { code: resolution.reason === Reason.PortInUse ? 409 : 500, reason: resolution.reason, message: resolution.message },
      };
    case "ready": {
      const n = resolution.networking;
      if (n === undefined) return { kind: "ok", value: undefined };
      const value: NetworkingInput = {
        interfaces: n.interfaces,
        networks: n.networks,
        networkData: n.networkData,
        networkNames: n.networkNames,
        podLabels: n.podLabels,
      };
      return { kind: "ok", value };
    }
  }
}

/** The watches that bring a server back when its ports, their networks or subnets change. */
export function networkingWatchesFor(caches: CacheSet, servers: WatchCache<Server>): SecondaryWatch[] {
  return networkingWatches(networkingSources(caches), "Server", servers);
}
