// The guest's view of its addresses: OpenStack's network_data.json (what KubeVirt puts on the config
// drive) read the way cloud-init does, so the simulator can report per-MAC addresses as a guest agent
// would. Only the config-drive (OpenStack) format is understood; NoCloud's netplan is not.
import { z } from "zod";
import type { Volume } from "../generated/index.js";

const linkSchema = z.looseObject({
  id: z.string(),
  type: z.string().optional(),
  ethernet_mac_address: z.string().optional(),
  vlan_mac_address: z.string().optional(),
});
const networkSchema = z.looseObject({
  link: z.string(),
  type: z.string().optional(),
  ip_address: z.string().optional(),
});
const networkDataSchema = z.looseObject({
  links: z.array(linkSchema).nullish(),
  networks: z.array(networkSchema).nullish(),
});

/** Lower-case MAC → the static addresses network_data.json gives that link, in document order. */
export function addressesByMac(networkDataJson: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let json: unknown;
  try {
    json = JSON.parse(networkDataJson);
  } catch {
    return result; // cloud-init would ignore unreadable network data too
  }
  const parsed = networkDataSchema.safeParse(json);
  if (!parsed.success) return result;
  const macByLink = new Map<string, string>();
  for (const link of parsed.data.links ?? []) {
    const mac = link.ethernet_mac_address ?? link.vlan_mac_address;
    if (mac !== undefined) macByLink.set(link.id, mac.toLowerCase());
  }
  for (const network of parsed.data.networks ?? []) {
    const mac = macByLink.get(network.link);
    if (mac === undefined || network.ip_address === undefined || network.ip_address === "") continue;
    // DHCP networks carry no address; static ones may be written with a prefix length.
    const address = network.ip_address.split("/")[0] ?? network.ip_address;
    const list = result.get(mac) ?? [];
    if (!list.includes(address)) list.push(address);
    result.set(mac, list);
  }
  return result;
}

/** Where a VMI's config-drive network data comes from, if it has any. */
export type NetworkDataSource =
  | { kind: "inline"; json: string }
  | { kind: "secret"; secretName: string }
  | { kind: "none" };

export function networkDataSourceOf(volumes: readonly Volume[] | null | undefined): NetworkDataSource {
  for (const volume of volumes ?? []) {
    const drive = volume.cloudInitConfigDrive;
    if (drive === undefined || drive === null) continue;
    if (drive.networkData !== undefined && drive.networkData !== "") return { kind: "inline", json: drive.networkData };
    if (drive.networkDataBase64 !== undefined && drive.networkDataBase64 !== "") {
      return { kind: "inline", json: Buffer.from(drive.networkDataBase64, "base64").toString("utf8") };
    }
    const secretName = drive.networkDataSecretRef?.name;
    if (secretName !== undefined && secretName !== "") return { kind: "secret", secretName };
  }
  return { kind: "none" };
}

/** KubeVirt reads the key `networkdata` (or `networkData`) from a networkDataSecretRef Secret. */
export function networkDataFromSecret(data: Readonly<Record<string, string>> | undefined): string | undefined {
  const encoded = data?.networkdata ?? data?.networkData;
  return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}
