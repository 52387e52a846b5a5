// Who declares a volume, across kinds: the servers (spec.volumes, spec.bootVolume) and containers
// (spec.volumes) of its project. The server and container controllers both decide a single-attach
// volume's holder from this list (singleAttachHolder); the index is registered once per shared cache.
import type { Container, Server } from "../../api/index.js";
import { objectKey, type WatchCache } from "../../kube/index.js";
import { containersDeclaring } from "../container/volumes.js";
import { volumesOfServer, type VolumeClaimant } from "./attach.js";

const SERVERS_BY_VOLUME = "volume-claimants:servers";
const indexed = new WeakSet<WatchCache<Server>>();

/** The servers (of the shared cache) that declare a volume, by the volume's key. */
export function serversDeclaring(servers: WatchCache<Server>): (volumeKey: string) => Server[] {
  if (!indexed.has(servers)) {
    servers.addIndex(SERVERS_BY_VOLUME, (s) => volumesOfServer(s).map((name) => objectKey(s.metadata.namespace, name)));
    indexed.add(servers);
  }
  return (volumeKey) => servers.byIndex(SERVERS_BY_VOLUME, volumeKey);
}

/** Every server and container that declares a volume, by the volume's namespace and name. */
export function volumeClaimants(
  servers: WatchCache<Server>,
  containers: WatchCache<Container>,
): (namespace: string | undefined, volumeName: string) => VolumeClaimant[] {
  const declaringServers = serversDeclaring(servers);
  const declaringContainers = containersDeclaring(containers);
  return (namespace, volumeName) => {
    const key = objectKey(namespace, volumeName);
    return [
      ...declaringServers(key).map((object) => ({ kind: "server" as const, object })),
      ...declaringContainers(key).map((object) => ({ kind: "container" as const, object })),
    ];
  };
}
