// Multus: the network-selection annotation a pod asks with, and the network-status annotation Multus
// answers with (cluster network first, then each attachment with its interface, IPs and MAC).
import { z } from "zod";
import { generatedMac } from "./addresses.js";

/** The cluster network's name in network-status, as a CNI like flannel or kindnet would report it. */
export const CLUSTER_NETWORK_NAME = "sim-pod-network";

export interface NetworkSelection {
  name: string;
  namespace: string;
  ips?: string[];
  mac?: string;
  interface?: string;
}

const selectionSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  ips: z.array(z.string()).optional(),
  mac: z.string().optional(),
  interface: z.string().optional(),
});

export type ParsedSelections = { ok: true; selections: NetworkSelection[] } | { ok: false; message: string };

/** Both forms Multus accepts: a JSON list of selections, or `name`, `ns/name`, `name@iface`, comma-separated. */
export function parseNetworkSelections(annotation: string | undefined, podNamespace: string): ParsedSelections {
  const text = annotation?.trim() ?? "";
  if (text === "") return { ok: true, selections: [] };
  if (text.startsWith("[") || text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { ok: false, message: `parsePodNetworkAnnotation: failed to parse pod Network Attachment Selection Annotation JSON format: ${String(e)}` };
    }
    const parsed = z.array(selectionSchema).safeParse(Array.isArray(json) ? json : [json]);
    if (!parsed.success) {
      return { ok: false, message: `parsePodNetworkAnnotation: invalid network selection: ${z.prettifyError(parsed.error)}` };
    }
    return {
      ok: true,
      selections: parsed.data.map((s) => ({
        name: s.name,
        namespace: s.namespace === undefined || s.namespace === "" ? podNamespace : s.namespace,
        ...(s.ips === undefined ? {} : { ips: s.ips }),
        ...(s.mac === undefined ? {} : { mac: s.mac }),
        ...(s.interface === undefined ? {} : { interface: s.interface }),
      })),
    };
  }
  const selections: NetworkSelection[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const [ref = "", iface] = item.split("@");
    const [first = "", second] = ref.split("/");
    const selection: NetworkSelection =
      second === undefined ? { name: first, namespace: podNamespace } : { name: second, namespace: first };
    if (selection.name === "") return { ok: false, message: `parsePodNetworkAnnotation: invalid network "${item}"` };
    if (iface !== undefined && iface !== "") selection.interface = iface;
    selections.push(selection);
  }
  return { ok: true, selections };
}

export interface NetworkStatusEntry {
  name: string;
  interface: string;
  ips?: string[];
  mac: string;
  default?: boolean;
  dns: Record<string, never>;
}

/** The network-status Multus writes once the pod sandbox is up. `podUid` seeds the generated MACs. */
export function networkStatus(
  podUid: string,
  podIp: string,
  selections: readonly NetworkSelection[],
): NetworkStatusEntry[] {
  const entries: NetworkStatusEntry[] = [
    {
      name: CLUSTER_NETWORK_NAME,
      interface: "eth0",
      ips: [podIp],
      mac: generatedMac(`${podUid}/eth0`),
      default: true,
      dns: {},
    },
  ];
  selections.forEach((selection, index) => {
    const iface = selection.interface ?? `net${index + 1}`;
    const ips = (selection.ips ?? []).map((ip) => ip.split("/")[0] ?? ip);
    entries.push({
      name: `${selection.namespace}/${selection.name}`,
      interface: iface,
      ...(ips.length > 0 ? { ips } : {}),
      mac: selection.mac ?? generatedMac(`${podUid}/${iface}`),
      dns: {},
    });
  });
  return entries;
}

/** The annotation text, indented as Multus writes it. */
export function formatNetworkStatus(entries: readonly NetworkStatusEntry[]): string {
  return JSON.stringify(entries, null, 4);
}
