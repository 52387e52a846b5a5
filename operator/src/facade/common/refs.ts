// How a project names other objects in the references its specs hold (imageRef, networkRef, …): its own by
// name, another project's (a public or shared image, a shared network) as `project/name`. The facade turns
// OpenStack ids into such references here, in one place for every service.
import { imageKind, networkKind, openstackName, projectOfNamespace, type Image, type Network } from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
import { imageUsableFrom } from "../../reconcilers/image/visibility.js";
import { conflict } from "./errors.js";
import type { FacadeStore } from "./store.js";

/** `name` for an object of `namespace`, else `project/name`. */
export function refFrom(namespace: string, obj: KubeObject): string {
  const name = obj.metadata.name ?? "";
  return obj.metadata.namespace === namespace ? name : `${projectOfNamespace(obj.metadata.namespace) ?? ""}/${name}`;
}

/** A network id as the networkRef of a project: one of its own, or another project's shared network. */
export function networkRefById(store: Pick<FacadeStore, "byUid">, namespace: string, id: string): string | undefined {
  const network = store.byUid<Network>(networkKind, id);
  if (network === undefined) return undefined;
  return network.metadata.namespace === namespace || network.spec.shared === true ? refFrom(namespace, network) : undefined;
}

/** An image id as the imageRef of a project that may use it (its own, public, community or shared with it). */
export function imageRefById(store: Pick<FacadeStore, "byUid">, namespace: string, id: string): string | undefined {
  const image = store.byUid<Image>(imageKind, id);
  return image === undefined || !imageUsableFrom(image, namespace) ? undefined : refFrom(namespace, image);
}

/** The object with this id, else the one with this OpenStack name; several with the name is a 409, as in OpenStack. */
export function byIdOrUniqueName<T extends Parameters<typeof openstackName>[0]>(objects: readonly T[], idOrName: string, what: string): T | undefined {
  const byId = objects.find((o) => o.metadata.uid === idOrName);
  if (byId !== undefined) return byId;
  const named = objects.filter((o) => openstackName(o) === idOrName);
  if (named.length > 1) throw conflict(`Multiple ${what}s named ${idOrName} exist; use its id.`);
  return named[0];
}
