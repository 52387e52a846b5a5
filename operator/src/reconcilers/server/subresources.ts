// KubeVirt's imperative API (virt-api's aggregated `subresources.kubevirt.io`), for what has no declarative
// form: pause/unpause, soft reboot, reset, and restart. The operator calls it through the kube-apiserver
// like kubectl/virtctl do, so RBAC and auditing apply as for any other request.
import type { PauseOptions, RestartOptions, UnpauseOptions } from "../../generated/index.js";
import { isConflict, type KubeClient } from "../../kube/index.js";

export const SUBRESOURCES_API = "/apis/subresources.kubevirt.io/v1";

export type VmiOperation = "pause" | "unpause" | "softreboot" | "reset";
export type VmOperation = "restart";

interface Bodies {
  pause: PauseOptions;
  unpause: UnpauseOptions;
  softreboot: undefined;
  reset: undefined;
  restart: RestartOptions;
}

function path(resource: "virtualmachineinstances" | "virtualmachines", namespace: string, name: string, op: string): string {
  return `${SUBRESOURCES_API}/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}/${op}`;
}

/**
 * PUT a VMI subresource. Returns false when virt-api answers 409 (already paused, not paused, …): the
 * state asked for is already there or on its way, which is what a level-triggered caller wants.
 */
export async function vmiOperation<Op extends VmiOperation>(
  client: Pick<KubeClient, "request">,
  namespace: string,
  name: string,
  op: Op,
  body?: Bodies[Op],
): Promise<boolean> {
  try {
    await client.request({
      method: "PUT",
      path: path("virtualmachineinstances", namespace, name, op),
      ...(body === undefined ? {} : { body }),
    });
    return true;
  } catch (e) {
    if (isConflict(e)) return false;
    throw e;
  }
}

/** PUT a VM subresource (restart); false on 409 (a state change is already pending). */
export async function vmOperation(
  client: Pick<KubeClient, "request">,
  namespace: string,
  name: string,
  op: VmOperation,
  body: Bodies[VmOperation] = {},
): Promise<boolean> {
  try {
    await client.request({ method: "PUT", path: path("virtualmachines", namespace, name, op), body });
    return true;
  } catch (e) {
    if (isConflict(e)) return false;
    throw e;
  }
}

/** The API paths of a running guest's consoles (websocket upgrades), for the facade to proxy. */
export function consolePaths(namespace: string, vmiName: string): { vnc: string; serial: string } {
  return {
    vnc: path("virtualmachineinstances", namespace, vmiName, "vnc"),
    serial: path("virtualmachineinstances", namespace, vmiName, "console"),
  };
}
