// Pure: the VMI's interfaces as Nova reports a server's addresses. The networking reconcilers reuse it for
// ports and instances they attach; the interface → network name mapping comes from the same networking
// input the VM was built with.
import type { VirtualMachineInstanceNetworkInterface } from "../../generated/index.js";
import type { NetworkingInput } from "./vm.js";

export interface NovaAddress {
  addr: string;
  version: number;
  type: "fixed" | "floating";
  macAddr?: string;
}

export type NovaAddresses = Record<string, NovaAddress[]>;

export function ipVersion(address: string): 4 | 6 {
  return address.includes(":") ? 6 : 4;
}

/** The OpenStack network an interface is on: the name networking gave it, else the interface name. */
export function networkNameOf(interfaceName: string, networking: Pick<NetworkingInput, "networkNames"> | undefined): string {
  return networking?.networkNames?.[interfaceName] ?? interfaceName;
}

/**
 * `{network: [{addr, version, type, macAddr}]}` from the VMI's reported interfaces, in interface order,
 * addresses in the order the guest reports them. Interfaces without an address are left out (Nova lists
 * only allocated addresses); a network reached through two interfaces lists both.
 */
export function novaAddresses(
  interfaces: readonly VirtualMachineInstanceNetworkInterface[] | null | undefined,
  networking: Pick<NetworkingInput, "networkNames"> | undefined,
): NovaAddresses {
  const result: NovaAddresses = {};
  for (const iface of interfaces ?? []) {
    if (iface.name === undefined || iface.name === "") continue;
    const addrs = iface.ipAddresses !== undefined && iface.ipAddresses.length > 0
      ? iface.ipAddresses
      : iface.ipAddress !== undefined && iface.ipAddress !== ""
        ? [iface.ipAddress]
        : [];
    if (addrs.length === 0) continue;
    const network = networkNameOf(iface.name, networking);
    const list = result[network] ?? [];
    for (const addr of addrs) {
      if (list.some((a) => a.addr === addr)) continue;
      list.push({
        addr,
        version: ipVersion(addr),
        type: "fixed",
        ...(iface.mac === undefined || iface.mac === "" ? {} : { macAddr: iface.mac.toLowerCase() }),
      });
    }
    result[network] = list;
  }
  return result;
}

/** What `openstack server list` prints in its Networks column: `net1=10.0.0.5, fd00::5; net2=…`. */
export function networksSummary(addresses: NovaAddresses): string {
  return Object.entries(addresses)
    .map(([network, list]) => `${network}=${list.map((a) => a.addr).join(", ")}`)
    .join("; ");
}
