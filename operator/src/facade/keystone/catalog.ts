// The service catalog: where each OpenStack service of this facade lives. Every endpoint carries both `region`
// (Tempest reads it) and `region_id` (keystoneauth reads it); ids are stable hashes so they never change
// between tokens or restarts.
import { createHash } from "node:crypto";

export const SERVICE_PREFIXES = {
  identity: "/identity",
  compute: "/compute",
  network: "/network",
  image: "/image",
  volume: "/volume",
  container: "/container",
} as const;

export const INTERFACES = ["public", "internal", "admin"] as const;

export interface CatalogEndpoint {
  id: string;
  interface: (typeof INTERFACES)[number];
  region: string;
  region_id: string;
  url: string;
}

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

/** A stable 32-hex id, as Keystone's uuid4().hex ids look. */
export function stableId(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
}

interface ServiceSpec {
  type: string;
  name: string;
  /** The URL below the public base; `{project_id}` is substituted. */
  path: string;
  description: string;
}

const SERVICES: readonly ServiceSpec[] = [
  { type: "identity", name: "keystone", path: SERVICE_PREFIXES.identity, description: "Keystone Identity Service" },
  { type: "compute", name: "nova", path: `${SERVICE_PREFIXES.compute}/v2.1`, description: "Nova Compute Service" },
  { type: "network", name: "neutron", path: SERVICE_PREFIXES.network, description: "Neutron Networking Service" },
  { type: "image", name: "glance", path: SERVICE_PREFIXES.image, description: "Glance Image Service" },
  // Cinder under both names devstack registers: block-storage (current) and volumev3 (older clients).
  {
    type: "block-storage",
    name: "cinder",
    path: `${SERVICE_PREFIXES.volume}/v3/{project_id}`,
    description: "Cinder Volume Service",
  },
  { type: "volumev3", name: "cinderv3", path: `${SERVICE_PREFIXES.volume}/v3/{project_id}`, description: "Cinder Volume Service V3" },
  { type: "container", name: "zun", path: `${SERVICE_PREFIXES.container}/v1`, description: "Zun Container Service" },
];

export interface CatalogOptions {
  publicUrl: string;
  region: string;
}

/** The catalog of a project-scoped token (URLs with a project id need it; without one they are left out). */
export function buildCatalog(opts: CatalogOptions, projectId: string | undefined): CatalogEntry[] {
  return SERVICES.filter((s) => projectId !== undefined || !s.path.includes("{project_id}")).map((s) => ({
    id: stableId("service", s.type),
    type: s.type,
    name: s.name,
    endpoints: INTERFACES.map((iface) => ({
      id: stableId("endpoint", s.type, iface, opts.region),
      interface: iface,
      region: opts.region,
      region_id: opts.region,
      url: `${opts.publicUrl}${s.path.replace("{project_id}", projectId ?? "")}`,
    })),
  }));
}

/** The `/v3/services` view of the catalog. */
export function catalogServices(): { id: string; type: string; name: string; description: string; enabled: boolean }[] {
  return SERVICES.map((s) => ({ id: stableId("service", s.type), type: s.type, name: s.name, description: s.description, enabled: true }));
}

/** The `/v3/endpoints` view (URL templates keep `$(project_id)s` as Keystone stores them). */
export function catalogEndpoints(opts: CatalogOptions): {
  id: string;
  interface: string;
  region: string;
  region_id: string;
  service_id: string;
  url: string;
  enabled: boolean;
}[] {
  return SERVICES.flatMap((s) =>
    INTERFACES.map((iface) => ({
      id: stableId("endpoint", s.type, iface, opts.region),
      interface: iface,
      region: opts.region,
      region_id: opts.region,
      service_id: stableId("service", s.type),
      url: `${opts.publicUrl}${s.path.replace("{project_id}", "$(project_id)s")}`,
      enabled: true,
    })),
  );
}
