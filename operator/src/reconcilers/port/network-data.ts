// Pure: OpenStack's network_data.json, as Nova writes it to the config drive (links by MAC, one network entry
// per fixed IP with netmask, default route via the subnet's gateway plus its host routes, DNS as services),
// read by cloud-init's OpenStack datasource and by Glean.
//
// Addresses are always static ("ipv4"/"ipv6"), also for subnets with DHCP enabled or IPv6 SLAAC: OVS-CNI
// secondary networks have no DHCP server or router advertisements, so a guest told to use DHCP/SLAAC would
// come up without an address. The address written for a SLAAC subnet is the port's EUI-64 address, the
// same one SLAAC would have produced.
import { formatCidr, netmask, parseCidr, parseIp } from "../ipam/addresses.js";

export interface NetworkDataLink {
  id: string;
  vif_id: string;
  type: "ovs";
  mtu: number;
  ethernet_mac_address: string;
}

export interface NetworkDataRoute {
  network: string;
  netmask: string;
  gateway: string;
}

export interface NetworkDataService {
  type: "dns";
  address: string;
}

export interface NetworkDataNetwork {
  id: string;
  type: "ipv4" | "ipv6";
  link: string;
  ip_address: string;
  netmask: string;
  routes: NetworkDataRoute[];
  network_id: string;
  services: NetworkDataService[];
}

export interface NetworkData {
  links: NetworkDataLink[];
  networks: NetworkDataNetwork[];
  services: NetworkDataService[];
}

/** One address of a port, with what the guest needs to know about its subnet. */
export interface NetworkDataAddress {
  ipAddress: string;
  cidr: string;
  gateway?: string | undefined;
  hostRoutes: readonly { destination: string; nexthop: string }[];
  dnsNameservers: readonly string[];
}

/** One NIC: the port (its id becomes the link's vif_id), its MAC, the network's MTU and id. */
export interface NetworkDataPort {
  portId: string;
  macAddress: string;
  mtu: number;
  networkId: string;
  addresses: readonly NetworkDataAddress[];
}

/** Nova's link id: "tap" + the first 11 characters of the port id. */
export const linkId = (portId: string): string => `tap${portId.slice(0, 11)}`;

export function networkData(ports: readonly NetworkDataPort[]): NetworkData {
  const links: NetworkDataLink[] = [];
  const networks: NetworkDataNetwork[] = [];
  const services: NetworkDataService[] = [];
  const addService = (address: string): NetworkDataService => {
    const service = { type: "dns" as const, address };
    if (!services.some((s) => s.address === address)) services.push(service);
    return service;
  };
  for (const port of ports) {
    const link = linkId(port.portId);
    links.push({ id: link, vif_id: port.portId, type: "ovs", mtu: port.mtu, ethernet_mac_address: port.macAddress });
    for (const address of port.addresses) {
      const cidr = parseCidr(address.cidr);
      const ip = parseIp(address.ipAddress);
      if (cidr === undefined || ip === undefined || ip.version !== cidr.version) continue;
      const any = cidr.version === 4 ? "0.0.0.0" : "::";
      const routes: NetworkDataRoute[] = [];
      if (address.gateway !== undefined) routes.push({ network: any, netmask: any, gateway: address.gateway });
      for (const route of address.hostRoutes) {
        const destination = parseCidr(route.destination);
        if (destination?.version !== cidr.version) continue;
        routes.push({
          network: formatCidr(destination).split("/")[0] ?? "",
          netmask: netmask(destination.version, destination.prefix),
          gateway: route.nexthop,
        });
      }
      networks.push({
        id: `network${networks.length}`,
        type: cidr.version === 4 ? "ipv4" : "ipv6",
        link,
        ip_address: address.ipAddress,
        netmask: netmask(cidr.version, cidr.prefix),
        routes,
        network_id: port.networkId,
        services: address.dnsNameservers.map(addService),
      });
    }
  }
  return { links, networks, services };
}
