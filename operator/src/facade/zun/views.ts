// Pure: Container objects as Zun shows them (the container view of zun/api/controllers/v1/views), and the
// version documents python-zunclient negotiates its microversion from.
import { openstackName, type Container, type Port } from "../../api/index.js";
import type { Microversion } from "../common/microversion.js";
import type { ZunStatus } from "../../reconcilers/container/status.js";

/** The API we serve: 1.1 to 1.40, python-zunclient 5.5's maximum (its MAX_API_VERSION). */
export const ZUN_MIN_VERSION: Microversion = { major: 1, minor: 1 };
export const ZUN_MAX_VERSION: Microversion = { major: 1, minor: 40 };

/** A container's Zun status; Creating until the reconciler has written one. */
export const zunStatusOf = (container: Container): ZunStatus => container.status?.status ?? "Creating";

/** The port behind one entry of spec.networks, and whether the user brought it (Zun's preserve_on_delete). */
export interface AttachedPort {
  port: Port | undefined;
  userPort: boolean;
}

export interface ZunAddress {
  addr: string;
  version: 4 | 6;
  subnet_id: string;
  port: string;
  preserve_on_delete: boolean;
}

/** Zun's addresses: network id → the addresses of the container's ports on it. */
export function zunAddresses(attached: readonly AttachedPort[]): Record<string, ZunAddress[]> {
  const out: Record<string, ZunAddress[]> = {};
  for (const { port, userPort } of attached) {
    const networkId = port?.status?.networkId;
    if (port === undefined || networkId === undefined) continue;
    for (const ip of port.status?.fixedIPs ?? []) {
      (out[networkId] ??= []).push({
        addr: ip.ipAddress,
        version: ip.ipAddress.includes(":") ? 6 : 4,
        subnet_id: ip.subnetId ?? "",
        port: port.metadata.uid ?? "",
        preserve_on_delete: userPort,
      });
    }
  }
  return out;
}

export interface ContainerViewInput {
  container: Container;
  attached: readonly AttachedPort[];
  securityGroupNames: readonly string[];
  projectId: string;
  userId: string;
  /** Public URL of the Zun service root (`…/container`). */
  serviceUrl: string;
  /** Zun shows the host to admins only (policy container:get_one:host). */
  admin: boolean;
}

export function containerView(input: ContainerViewInput): Record<string, unknown> {
  const { container, serviceUrl } = input;
  const spec = container.spec;
  const uuid = container.metadata.uid ?? "";
  return {
    uuid,
    name: openstackName(container),
    image: spec.image,
    status: zunStatusOf(container),
    status_reason: container.status?.statusReason ?? null,
    status_detail: null,
    task_state: null,
    // Zun's command is Docker's CMD (the Pod's args); its entrypoint the Pod's command.
    command: spec.args ?? [],
    entrypoint: spec.command ?? [],
    environment: { ...spec.env },
    labels: { ...spec.labels },
    workdir: spec.workdir ?? null,
    cpu: spec.cpu ?? null,
    memory: spec.memory === undefined ? null : String(spec.memory),
    disk: 0,
    restart_policy: { Name: spec.restartPolicy ?? "no", MaximumRetryCount: "0" },
    addresses: zunAddresses(input.attached),
    ports: [],
    security_groups: [...input.securityGroupNames],
    hostname: container.status?.podName ?? null,
    project_id: input.projectId,
    user_id: input.userId,
    image_driver: "docker",
    runtime: "runc",
    cpu_policy: "shared",
    interactive: false,
    tty: false,
    auto_remove: false,
    auto_heal: false,
    privileged: false,
    registry_id: null,
    healthcheck: {},
    ...(input.admin ? { host: container.status?.host ?? null } : {}),
    links: [
      { href: `${serviceUrl}/v1/containers/${uuid}`, rel: "self" },
      { href: `${serviceUrl}/containers/${uuid}`, rel: "bookmark" },
    ],
  };
}

const versionText = (v: Microversion): string => `${v.major}.${v.minor}`;

/** The v1 entry of Zun's version documents; its `self` link is where the client's requests go. */
export function zunVersion(serviceUrl: string): Record<string, unknown> {
  return {
    id: "v1",
    status: "CURRENT",
    min_version: versionText(ZUN_MIN_VERSION),
    max_version: versionText(ZUN_MAX_VERSION),
    links: [{ href: `${serviceUrl}/v1/`, rel: "self" }],
  };
}

/** `GET /` (200: zunclient treats a 300 as an error): what python-zunclient reads its version range from. */
export function zunRootDocument(serviceUrl: string): Record<string, unknown> {
  const v1 = zunVersion(serviceUrl);
  return {
    name: "OpenStack Zun API",
    description: "Zun is an OpenStack project which aims to provide containers service.",
    default_version: v1,
    versions: [v1],
  };
}
