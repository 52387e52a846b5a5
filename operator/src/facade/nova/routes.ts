// Nova v2.1 (microversions up to NOVA_MAX_VERSION): version documents, flavors (+ access, extra specs),
// keypairs, servers (→ Server objects) and their actions (→ Server spec or ServerAction objects), metadata,
// tags, addresses, volume attachments, interfaces, instance actions, limits, quota sets, availability zones.
import { randomBytes } from "node:crypto";
import { namedQuotas, writeProjectQuotas } from "../common/quotas.js";
import { z } from "zod";
import {
  flavorKind,
  imageKind,
  keypairKind,
  networkKind,
  openstackName,
  portKind,
  projectKind,
  projectOfNamespace,
  securityGroupKind,
  REQUESTED_AT_ANNOTATION,
  serverActionKind,
  serverKind,
  volumeKind,
  type Flavor,
  type Image,
  type Keypair,
  type Network,
  type Port,
  type Project,
  type SecurityGroup,
  type Server,
  type ServerAction,
  type KindObject,
  type Volume,
} from "../../api/index.js";
import { effectiveQuotas } from "../../reconcilers/project/desired.js";
import { parsePublicKey } from "../../reconcilers/keypair/public-key.js";
import { blockDevicesOf, bootVolumeOf } from "../../reconcilers/volume/attach.js";
import { requireAccess, requireProject, type Caller, type CallerProject } from "../common/caller.js";
import type { ServiceDeps } from "../common/deps.js";
import { ApiError, badRequest, conflict, forbidden, notFound } from "../common/errors.js";
import { queryFlag, reply, type Reply, type Route, type RouteContext, type Service } from "../common/http.js";
import { matchesNamePattern, paginate, parsePage, nextHref } from "../common/listing.js";
import { atLeast } from "../common/microversion.js";
import { fromKubeError } from "../common/kube-errors.js";
import { chooseObjectName, randomSuffix, specNameOf } from "../common/names.js";
import { FACADE_MANAGER, TenantAccess } from "../common/tenant.js";
import { availabilityZones, hostsByZone, serverZone } from "../common/zones.js";
import { SERVICE_PREFIXES } from "../keystone/catalog.js";
import { isoSeconds } from "../keystone/tokens.js";
import { generateRsaKeypair } from "./keygen.js";
import {
  consoleProtocolFor,
  instanceName,
  legacyConsoleRequest,
  planServerAction,
  planServerCreate,
  remoteConsoleSchema,
  serverCreateSchema,
  type CreateResolver,
} from "./requests.js";
import { CONSOLE_SUBRESOURCE, KUBEVIRT_SUBRESOURCE_VMI, consoleUrl } from "../console/proxy.js";
import {
  NOVA_MAX_VERSION,
  NOVA_MIN_VERSION,
  USER_ID_ANNOTATION,
  flavorSummary,
  flavorView,
  keypairDetailView,
  keypairView,
  limitsView,
  quotaSetView,
  serverStatusOf,
  serverSummary,
  serverView,
  type ComputeQuotas,
  type ComputeUsage,
  type KeypairViewInput,
} from "./views.js";
import { byIdOrUniqueName, imageRefById, networkRefById } from "../common/refs.js";

/** Ports Nova created for an interface attach by network; Nova deletes them again on detach. */
const NOVA_CREATED_PORT = "altostack.io/created-for-server";
const KEYPAIR_NAME = /^[a-zA-Z0-9 _-]+$/;
const VERSION_UPDATED = "2013-07-23T11:33:21Z";

const flavorCreateSchema = z.object({
  flavor: z.object({
    name: z.string().trim().min(1).max(255),
    ram: z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.int().min(1)),
    vcpus: z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.int().min(1)),
    disk: z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.int().min(0)),
    id: z.union([z.string(), z.int()]).nullish(),
    "OS-FLV-EXT-DATA:ephemeral": z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]).pipe(z.int().min(0)).nullish(),
    swap: z.union([z.int(), z.string().regex(/^\d*$/).transform((s) => (s === "" ? 0 : Number(s)))]).pipe(z.int().min(0)).nullish(),
    rxtx_factor: z.number().min(0).nullish(),
    "os-flavor-access:is_public": z.boolean().nullish(),
    description: z.string().max(65535).nullish(),
  }),
});
const extraSpecsSchema = z.object({ extra_specs: z.record(z.string().min(1).max(255), z.union([z.string(), z.number(), z.boolean()]).transform(String)) });
const keypairCreateSchema = z.object({
  keypair: z.object({
    name: z.string().trim().min(1).max(255),
    public_key: z.string().max(16384).nullish(),
    type: z.enum(["ssh", "x509"]).nullish(),
    user_id: z.string().nullish(),
  }),
});
const serverUpdateSchema = z.object({
  server: z.object({
    name: z.string().trim().min(1).max(255).nullish(),
    description: z.string().max(255).nullish(),
    accessIPv4: z.string().nullish(),
    accessIPv6: z.string().nullish(),
    "OS-DCF:diskConfig": z.string().nullish(),
  }),
});
const metadataSchema = z.object({ metadata: z.record(z.string().min(1).max(255), z.string().max(255)) });
const metaItemSchema = z.object({ meta: z.record(z.string().min(1).max(255), z.string().max(255)) });
const volumeAttachSchema = z.object({
  volumeAttachment: z.object({
    volumeId: z.string().min(1),
    device: z.string().max(255).nullish(),
    tag: z.string().max(60).nullish(),
    delete_on_termination: z.boolean().nullish(),
  }),
});
const interfaceAttachSchema = z.object({
  interfaceAttachment: z.object({
    net_id: z.string().nullish(),
    port_id: z.string().nullish(),
    fixed_ips: z.array(z.object({ ip_address: z.string().max(64) })).max(1).nullish(),
    tag: z.string().max(60).nullish(),
  }),
});
const quotaUpdateSchema = z.object({
  quota_set: z.looseObject({
    instances: z.int().min(-1).nullish(),
    cores: z.int().min(-1).nullish(),
    ram: z.int().min(-1).nullish(),
  }),
});

export function novaService(deps: ServiceDeps): Service {
  const { store, identity } = deps;
  const tenant = new TenantAccess(store, "nova");
  const policy = (name: string) => `os_compute_api:${name}`;
  const failed = (name: string, subject: string) => ({ policy: policy(name), subject });

  // ---- version documents ----

  const versionV21 = (ctx: RouteContext) => ({
    id: "v2.1",
    status: "CURRENT",
    version: `${NOVA_MAX_VERSION.major}.${NOVA_MAX_VERSION.minor}`,
    min_version: `${NOVA_MIN_VERSION.major}.${NOVA_MIN_VERSION.minor}`,
    updated: VERSION_UPDATED,
    links: [{ rel: "self", href: `${ctx.serviceUrl}/v2.1/` }],
  });
  const versionV20 = (ctx: RouteContext) => ({
    id: "v2.0",
    status: "DEPRECATED",
    version: "",
    min_version: "",
    updated: "2025-07-04T12:00:00Z",
    links: [{ rel: "self", href: `${ctx.serviceUrl}/v2/` }],
  });
  const versionDoc = (ctx: RouteContext) => ({
    version: {
      ...versionV21(ctx),
      links: [
        { rel: "self", href: `${ctx.serviceUrl}/v2.1/` },
        { rel: "describedby", type: "text/html", href: "http://docs.openstack.org/" },
      ],
      "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }],
    },
  });

  // ---- lookups ----

  const projectIdOf = (namespace: string | undefined): string => {
    const name = projectOfNamespace(namespace);
    return name === undefined ? "" : (identity.projectByObjectName(name)?.metadata.uid ?? "");
  };
  const zones = (): string[] => availabilityZones(store);
  const flavorVisible = (flavor: Flavor, caller: Caller): boolean =>
    flavor.spec.isPublic !== false ||
    caller.cloudAdmin ||
    (caller.project !== undefined && (flavor.spec.projects ?? []).includes(caller.project.objectName));
  const flavorById = (caller: Caller, id: string): Flavor | undefined => {
    const flavor = store.byUid<Flavor>(flavorKind, id);
    return flavor !== undefined && flavorVisible(flavor, caller) ? flavor : undefined;
  };
  /** The object with this id when it is in the caller's project (a kind's object type follows from the kind). */
  const own = <K extends typeof portKind | typeof volumeKind>(project: CallerProject, kind: K, id: string): KindObject<K> | undefined => {
    const obj = store.byUid<KindObject<K>>(kind, id);
    return obj?.metadata.namespace === project.namespace ? obj : undefined;
  };
  const resolverFor = (caller: Caller, project: CallerProject): CreateResolver => ({
    flavor: (id) => flavorById(caller, id)?.metadata.name,
    image: (id) => imageRefById(store, project.namespace, id),
    keypair: (name) => store.inNamespace<Keypair>(keypairKind, project.namespace).find((k) => openstackName(k) === name)?.metadata.name,
    network: (id) => networkRefById(store, project.namespace, id),
    port: (id) => own(project, portKind, id)?.metadata.name,
    securityGroup: (nameOrId) =>
      byIdOrUniqueName(store.inNamespace<SecurityGroup>(securityGroupKind, project.namespace), nameOrId, "security group")?.metadata.name,
    volume: (id) => own(project, volumeKind, id)?.metadata.name,
    autoNetworks: () => {
      const networks = store.inNamespace<Network>(networkKind, project.namespace).filter((n) => n.metadata.deletionTimestamp === undefined);
      if (networks.length > 1) throw conflict("Multiple possible networks found, use a Network ID to be more specific.");
      return networks.map((n) => n.metadata.name ?? "");
    },
    availabilityZones: zones,
  });

  const serverOr404 = async (ctx: RouteContext, id = ctx.params.id ?? ""): Promise<Server> => {
    const server = await tenant.find<Server>(ctx.caller(), serverKind, id, policy("servers:show"));
    if (server === undefined) throw notFound(`Instance ${id} could not be found.`);
    return server;
  };

  const serverInput = (server: Server, ctx: RouteContext) => {
    const ns = server.metadata.namespace ?? "";
    const flavor = store.get<Flavor>(flavorKind, server.spec.flavorRef);
    // A volume-backed server has no image (Nova shows image "").
    let imageId = server.spec.bootVolume === undefined ? server.status?.image?.id : undefined;
    if (imageId === undefined && server.spec.imageRef !== undefined) {
      const ref = server.spec.imageRef;
      const slash = ref.indexOf("/");
      const key = slash < 0 ? `${ns}/${ref}` : `project-${ref.slice(0, slash)}/${ref.slice(slash + 1)}`;
      imageId = store.get<Image>(imageKind, key)?.metadata.uid ?? "";
    }
    const groups = server.spec.securityGroupRefs ?? (store.get(securityGroupKind, `${ns}/default`) === undefined ? [] : ["default"]);
    return {
      server,
      computeUrl: ctx.serviceUrl,
      projectId: projectIdOf(ns),
      flavor,
      imageId,
      securityGroups: groups.map((g) => {
        const group = store.get<SecurityGroup>(securityGroupKind, `${ns}/${g}`);
        return group === undefined ? g : openstackName(group);
      }),
      keyName:
        server.spec.keypairRef === undefined
          ? undefined
          : openstackName(store.get<Keypair>(keypairKind, `${ns}/${server.spec.keypairRef}`) ?? { metadata: { name: server.spec.keypairRef } }),
      volumes: blockDevicesOf(server).map((v) => ({
        id: store.get<Volume>(volumeKind, `${ns}/${v.volumeRef}`)?.metadata.uid ?? v.volumeRef,
        deleteOnTermination: v.deleteOnTermination === true,
      })),
      admin: ctx.caller().cloudAdmin,
      availabilityZone: serverZone(store, server.status?.host, server.spec.availabilityZone),
    };
  };
  const showServer = (server: Server, ctx: RouteContext) => ({ server: serverView(serverInput(server, ctx), ctx.version, { show: true }) });

  // ---- quotas ----

  const quotasOf = (project: Project): ComputeQuotas => {
    const q = project.status?.quotas ?? effectiveQuotas(project);
    return { instances: q.instances ?? -1, cores: q.cores ?? -1, ram: q.ram ?? -1 };
  };
  const usageOf = (namespace: string): ComputeUsage => {
    const servers = store.inNamespace<Server>(serverKind, namespace).filter((s) => s.metadata.deletionTimestamp === undefined);
    let cores = 0;
    let ram = 0;
    for (const s of servers) {
      const f = s.status?.flavor ?? store.get<Flavor>(flavorKind, s.spec.flavorRef)?.spec;
      cores += f?.vcpus ?? 0;
      ram += f?.ram ?? 0;
    }
    return { instances: servers.length, cores, ram, keypairs: store.inNamespace(keypairKind, namespace).length };
  };
  const projectForQuota = async (ctx: RouteContext): Promise<Project> => {
    const caller = ctx.caller();
    const id = ctx.params.project ?? "";
    const project = identity.projectById(id);
    if (project === undefined) throw notFound(`Project ${id} could not be found.`);
    if (caller.project?.id !== id && !caller.cloudAdmin) throw forbidden(`Policy doesn't allow ${policy("os-quota-sets:show")} to be performed.`);
    await requireAccess(caller, { verb: "get", resource: projectKind, name: project.metadata.name }, policy("os-quota-sets:show"));
    return project;
  };

  // ---- flavors ----

  const listFlavors = async (ctx: RouteContext, detail: boolean): Promise<Reply> => {
    const caller = ctx.caller();
    await requireAccess(caller, { verb: "list", resource: flavorKind }, policy("flavors:index"));
    const isPublic = (ctx.query.get("is_public") ?? "true").toLowerCase();
    const minDisk = Number(ctx.query.get("minDisk") ?? "0");
    const minRam = Number(ctx.query.get("minRam") ?? "0");
    if (Number.isNaN(minDisk) || Number.isNaN(minRam)) throw badRequest("Invalid minDisk or minRam filter value.");
    let flavors = store.all<Flavor>(flavorKind).filter((f) => flavorVisible(f, caller) && f.spec.disk >= minDisk && f.spec.ram >= minRam);
    if (!(caller.cloudAdmin && (isPublic === "none" || isPublic === "false"))) {
      flavors = flavors.filter((f) => f.spec.isPublic !== false || !caller.cloudAdmin);
    } else if (isPublic === "false") {
      flavors = flavors.filter((f) => f.spec.isPublic === false);
    }
    // Nova sorts flavors by flavorid ascending; ours sort by memory then name, which reads the same for m1.*.
    flavors.sort((a, b) => a.spec.ram - b.spec.ram || openstackName(a).localeCompare(openstackName(b)));
    const views = flavors.map((f) => (detail ? flavorView(f, ctx.version, ctx.serviceUrl) : flavorSummary(f, ctx.version, ctx.serviceUrl)));
    const page = paginate(views, parsePage(ctx.query), undefined, { linkWhenFull: true });
    return reply(200, {
      flavors: page.items,
      ...(page.nextMarker === undefined ? {} : { flavors_links: [{ rel: "next", href: nextHref(`${ctx.serviceUrl}${ctx.path}`, ctx.query, page.nextMarker) }] }),
    });
  };
  const flavorOr404 = (ctx: RouteContext): Flavor => {
    const flavor = flavorById(ctx.caller(), ctx.params.id ?? "");
    if (flavor === undefined) throw notFound(`Flavor ${ctx.params.id ?? ""} could not be found.`);
    return flavor;
  };
  const patchFlavor = async (caller: Caller, flavor: Flavor, patch: unknown, what: string): Promise<Flavor> => {
    try {
      return await store.write(flavorKind, () =>
        caller.kube.patch<Flavor>(flavorKind, flavor.metadata.name ?? "", undefined, patch, "merge", { fieldManager: FACADE_MANAGER }),
      );
    } catch (e) {
      throw fromKube(e, what, `flavor ${openstackName(flavor)}`);
    }
  };
  const fromKube = (e: unknown, name: string, subject: string): ApiError => fromKubeError(e, "nova", failed(name, subject));

  const createFlavor = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { flavor: input } = await ctx.body(flavorCreateSchema);
    if (store.all<Flavor>(flavorKind).some((f) => openstackName(f) === input.name)) {
      throw conflict(`Flavor with name ${input.name} already exists.`);
    }
    const choice = chooseObjectName(input.name, {
      fallback: "flavor",
      subdomain: true,
      maxLength: 253,
      taken: (n) => store.get(flavorKind, n) !== undefined,
    });
    const object: Flavor = {
      apiVersion: flavorKind.apiVersion,
      kind: flavorKind.kind,
      metadata: { name: choice.objectName },
      spec: {
        ...specNameOf(choice),
        vcpus: input.vcpus,
        ram: input.ram,
        disk: input.disk,
        ...(input["OS-FLV-EXT-DATA:ephemeral"] == null ? {} : { ephemeral: input["OS-FLV-EXT-DATA:ephemeral"] }),
        ...(input.swap == null || input.swap === 0 ? {} : { swap: input.swap }),
        ...(input.rxtx_factor == null ? {} : { rxtxFactor: input.rxtx_factor }),
        isPublic: input["os-flavor-access:is_public"] ?? true,
        ...(input.description == null ? {} : { description: input.description }),
      },
    };
    let created: Flavor;
    try {
      created = await store.write(flavorKind, () => caller.kube.create(flavorKind, object, { fieldManager: FACADE_MANAGER }));
    } catch (e) {
      throw fromKube(e, "os-flavor-manage:create", `flavor ${input.name}`);
    }
    return reply(200, { flavor: flavorView(created, ctx.version, ctx.serviceUrl) });
  };

  const flavorAccess = (flavor: Flavor) => ({
    flavor_access: (flavor.spec.projects ?? []).map((p) => ({
      flavor_id: flavor.metadata.uid ?? "",
      tenant_id: identity.projectByObjectName(p)?.metadata.uid ?? p,
    })),
  });

  const flavorAction = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const flavor = flavorOr404(ctx);
    const body = await ctx.body(
      z.union([z.object({ addTenantAccess: z.object({ tenant: z.string().min(1) }) }), z.object({ removeTenantAccess: z.object({ tenant: z.string().min(1) }) })]),
    );
    if (flavor.spec.isPublic !== false) throw conflict("Can not add access to a public flavor.");
    const tenantId = "addTenantAccess" in body ? body.addTenantAccess.tenant : body.removeTenantAccess.tenant;
    const project = identity.projectById(tenantId);
    if (project === undefined) throw badRequest(`Project ID ${tenantId} is not a valid project.`);
    const name = project.metadata.name ?? "";
    const adding = "addTenantAccess" in body;
    const updated = await tenant.patchGuarded(
      caller,
      flavorKind,
      flavor,
      (fresh) => {
        const current = fresh.spec.projects ?? [];
        if (adding && current.includes(name)) throw conflict(`Flavor access already exists for flavor ${flavor.metadata.uid ?? ""} and project ${tenantId} combination.`);
        if (!adding && !current.includes(name)) throw notFound(`Flavor access not found for ${flavor.metadata.uid ?? ""} / ${tenantId} combination.`);
        return { projects: adding ? [...current, name] : current.filter((p) => p !== name) };
      },
      failed("os-flavor-access", `flavor ${openstackName(flavor)}`),
    );
    return reply(200, flavorAccess(updated));
  };

  const setExtraSpecs = async (ctx: RouteContext, specs: Record<string, string | null>): Promise<Flavor> =>
    patchFlavor(ctx.caller(), flavorOr404(ctx), { spec: { extraSpecs: specs } }, "os-flavor-extra-specs:update");

  // ---- keypairs ----

  const keypairInput = (keypair: Keypair): KeypairViewInput => {
    const parsed = parsePublicKey(keypair.spec.publicKey);
    return {
      keypair,
      fingerprint: keypair.status?.fingerprint ?? (parsed.ok ? parsed.fingerprint : ""),
      keyType: keypair.status?.type ?? "ssh",
      userId: keypair.metadata.annotations?.[USER_ID_ANNOTATION] ?? "",
    };
  };
  const keypairOr404 = async (ctx: RouteContext): Promise<Keypair> => {
    const name = ctx.params.name ?? "";
    const keypairs = await tenant.list<Keypair>(ctx.caller(), keypairKind, policy("os-keypairs:show"));
    const keypair = keypairs.find((k) => openstackName(k) === name);
    if (keypair === undefined) throw notFound(`Keypair ${name} not found for user ${ctx.caller().userId}`);
    return keypair;
  };

  const createKeypair = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const { keypair: input } = await ctx.body(keypairCreateSchema);
    if (!KEYPAIR_NAME.test(input.name)) {
      throw badRequest("Keypair data is invalid: Keypair name contains unsafe characters");
    }
    const existing = await tenant.list<Keypair>(caller, keypairKind, policy("os-keypairs:create"));
    if (existing.some((k) => openstackName(k) === input.name)) throw conflict(`Key pair '${input.name}' already exists.`);
    if (input.type === "x509") throw badRequest("Keypair data is invalid: x509 keypairs are not supported; use an SSH key.");
    let publicKey = input.public_key ?? undefined;
    let privateKey: string | undefined;
    if (publicKey === undefined || publicKey.trim() === "") {
      const generated = await generateRsaKeypair();
      publicKey = generated.publicKey;
      privateKey = generated.privateKey;
    }
    const parsed = parsePublicKey(publicKey);
    if (!parsed.ok) throw badRequest(parsed.error);
    const key = publicKey.trim();
    const created = await tenant.create<Keypair>(
      caller,
      keypairKind,
      input.name,
      (choice, project) => ({
        apiVersion: keypairKind.apiVersion,
        kind: keypairKind.kind,
        metadata: { name: choice.objectName, namespace: project.namespace, annotations: { [USER_ID_ANNOTATION]: caller.userId } },
        spec: { ...specNameOf(choice), publicKey: key, type: "ssh" },
      }),
      failed("os-keypairs:create", `keypair ${input.name}`),
      { fallback: "keypair" },
    );
    const view = { ...keypairView(keypairInput(created), ctx.version), user_id: caller.userId, ...(privateKey === undefined ? {} : { private_key: privateKey }) };
    return reply(atLeast(ctx.version, "2.2") ? 201 : 200, { keypair: view });
  };

  // ---- servers ----

  const listServers = async (ctx: RouteContext, detail: boolean): Promise<Reply> => {
    const caller = ctx.caller();
    const q = ctx.query;
    const allTenants = queryFlag(q, "all_tenants") || queryFlag(q, "all_projects");
    let servers = allTenants && caller.cloudAdmin
      ? await tenant.listAll<Server>(caller, serverKind, policy("servers:index:get_all_tenants"))
      : await tenant.list<Server>(caller, serverKind, policy("servers:index"));
    const name = q.get("name");
    if (name !== null && name !== "") servers = servers.filter((s) => matchesNamePattern(openstackName(s), name));
    const status = q.get("status");
    if (status !== null && status !== "") servers = servers.filter((s) => serverStatusOf(s) === status.toUpperCase());
    const imageId = q.get("image");
    if (imageId !== null) servers = servers.filter((s) => serverInput(s, ctx).imageId === imageId);
    const flavorId = q.get("flavor");
    if (flavorId !== null) servers = servers.filter((s) => store.get<Flavor>(flavorKind, s.spec.flavorRef)?.metadata.uid === flavorId);
    const tags = q.get("tags");
    if (tags !== null && tags !== "") servers = servers.filter((s) => tags.split(",").every((t) => (s.spec.tags ?? []).includes(t)));
    const since = q.get("changes-since");
    if (since !== null && !Number.isNaN(Date.parse(since))) {
      servers = servers.filter((s) => Date.parse(serverView(serverInput(s, ctx), ctx.version, { show: false }).updated as string) >= Date.parse(since));
    }
    // Nova's default order: newest first.
    servers.sort(
      (a, b) =>
        Date.parse(b.metadata.creationTimestamp ?? "") - Date.parse(a.metadata.creationTimestamp ?? "") ||
        (b.metadata.uid ?? "").localeCompare(a.metadata.uid ?? ""),
    );
    const summaries = servers.map((s) => ({ server: s, id: s.metadata.uid ?? "" }));
    const page = paginate(summaries, parsePage(q), undefined, { linkWhenFull: true });
    const items = page.items.map(({ server }) =>
      detail ? serverView(serverInput(server, ctx), ctx.version, { show: false }) : serverSummary(server, ctx.serviceUrl),
    );
    return reply(200, {
      servers: items,
      ...(page.nextMarker === undefined ? {} : { servers_links: [{ rel: "next", href: nextHref(`${ctx.serviceUrl}${ctx.path}`, q, page.nextMarker) }] }),
    });
  };

  const createServers = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const body = await ctx.body(serverCreateSchema);
    const plan = planServerCreate(body, resolverFor(caller, project));
    checkComputeQuota(project, plan.spec.flavorRef, plan.min);
    const created: Server[] = [];
    for (let i = 0; i < plan.max; i++) {
      const name = instanceName(plan.baseName, i, plan.max);
      try {
        created.push(
          await tenant.create<Server>(
            caller,
            serverKind,
            name,
            (choice, p) => ({
              apiVersion: serverKind.apiVersion,
              kind: serverKind.kind,
              metadata: { name: choice.objectName, namespace: p.namespace, annotations: { [USER_ID_ANNOTATION]: caller.userId } },
              spec: { ...specNameOf(choice), ...plan.spec },
            }),
            failed("servers:create", `server ${name}`),
            { fallback: "server", maxLength: 50 },
          ),
        );
      } catch (e) {
        if (i < plan.min) {
          // Nova creates all of min_count or none.
          for (const server of created) await tenant.delete(caller, serverKind, server, failed("servers:delete", "server")).catch(() => undefined);
          throw e;
        }
        break;
      }
    }
    const first = created[0] as Server;
    if (plan.returnReservationId) return reply(202, { reservation_id: `r-${randomSuffix(8)}` });
    const groups = plan.spec.securityGroupRefs ?? ["default"];
    return reply(
      202,
      {
        server: {
          ...serverSummary(first, ctx.serviceUrl),
          "OS-DCF:diskConfig": "MANUAL",
          security_groups: groups.map((g) => ({ name: openstackName(store.get<SecurityGroup>(securityGroupKind, `${project.namespace}/${g}`) ?? { metadata: { name: g } }) })),
        },
      },
      { Location: `${ctx.serviceUrl}/v2.1/servers/${first.metadata.uid ?? ""}` },
    );
  };

  /** Nova refuses synchronously what would exceed cores or RAM (instances are counted by the ResourceQuota). */
  const checkComputeQuota = (project: CallerProject, flavorRef: string, count: number): void => {
    const projectObject = identity.projectByObjectName(project.objectName);
    const flavor = store.get<Flavor>(flavorKind, flavorRef);
    if (projectObject === undefined || flavor === undefined) return;
    const quotas = quotasOf(projectObject);
    const usage = usageOf(project.namespace);
    const checks: [string, number, number, number][] = [
      ["instances", quotas.instances, usage.instances, count],
      ["cores", quotas.cores, usage.cores, flavor.spec.vcpus * count],
      ["ram", quotas.ram, usage.ram, flavor.spec.ram * count],
    ];
    for (const [resource, limit, used, requested] of checks) {
      if (limit >= 0 && used + requested > limit) {
        throw new ApiError(403, `Quota exceeded for ${resource}: Requested ${requested}, but already used ${used} of ${limit} ${resource}`);
      }
    }
  };

  const updateServer = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const server = await serverOr404(ctx);
    const { server: input } = await ctx.body(serverUpdateSchema);
    const spec: Record<string, unknown> = {};
    if (input.name != null) spec.name = input.name === server.metadata.name ? null : input.name;
    if (input.description !== undefined) spec.description = input.description;
    const updated = Object.keys(spec).length === 0 ? server : await tenant.patch<Server>(caller, serverKind, server, { spec }, failed("servers:update", `server ${openstackName(server)}`));
    return reply(200, showServer(updated, ctx));
  };

  /**
   * A console URL for the caller: a websocket on the facade (see console/proxy.ts) with a short-lived token bound
   * to the caller, the server and the protocol. Nova's policy (member or admin) is the apiserver's RBAC on
   * KubeVirt's console subresource, asked as the caller; a server that is not running has no console (409).
   */
  const remoteConsoleUrl = async (ctx: RouteContext, server: Server, protocol: string, type: string): Promise<string> => {
    const caller = ctx.caller();
    const console = consoleProtocolFor(protocol, type);
    await requireAccess(
      caller,
      { verb: "get", resource: KUBEVIRT_SUBRESOURCE_VMI, subresource: CONSOLE_SUBRESOURCE[console], namespace: server.metadata.namespace },
      policy("os-remote-consoles"),
    );
    if (server.status?.console?.[console] === undefined) throw conflict(`Instance ${server.metadata.uid ?? ""} is not ready`);
    return consoleUrl(deps.publicUrl(), deps.consoles.issue(caller, server.metadata.uid ?? "", console).token);
  };

  const serverAction = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const server = await serverOr404(ctx);
    const legacyConsole = legacyConsoleRequest(await ctx.json());
    if (legacyConsole !== undefined) {
      // Nova serves these actions up to 2.5; from 2.6 on, POST /servers/{id}/remote-consoles replaces them.
      if (atLeast(ctx.version, "2.6")) throw new ApiError(404, "The resource could not be found.");
      const url = await remoteConsoleUrl(ctx, server, legacyConsole.protocol, legacyConsole.type);
      return reply(200, { console: { type: legacyConsole.type, url } });
    }
    const status = serverStatusOf(server);
    const { name, effect } = planServerAction(await ctx.json(), {
      serverId: server.metadata.uid ?? "",
      status,
      vmState: server.status?.vmState ?? status.toLowerCase(),
      locked: server.spec.locked === true && !caller.cloudAdmin,
      flavor: (id) => flavorById(caller, id)?.metadata.name,
      image: (id) => imageRefById(store, project.namespace, id),
    });
    const subject = `server ${openstackName(server)}`;
    switch (effect.kind) {
      case "spec":
        await tenant.patch(caller, serverKind, server, { spec: effect.patch }, failed(`os-${name}`, subject));
        return reply(202);
      case "addSecurityGroup":
      case "removeSecurityGroup": {
        const ref = resolverFor(caller, project).securityGroup(effect.group);
        if (ref === undefined) throw notFound(`Security group ${effect.group} not found for project ${project.id}.`);
        const kind = effect.kind;
        await tenant.patchGuarded(
          caller,
          serverKind,
          server,
          (fresh) => {
            const current = fresh.spec.securityGroupRefs ?? [];
            const has = current.includes(ref);
            if (kind === "addSecurityGroup" && has) throw badRequest(`Security group ${effect.group} is already associated with the instance ${server.metadata.uid ?? ""}`);
            if (kind === "removeSecurityGroup" && !has) throw badRequest(`Security group ${effect.group} not associated with the instance ${server.metadata.uid ?? ""}`);
            return { securityGroupRefs: kind === "addSecurityGroup" ? [...current, ref] : current.filter((g) => g !== ref) };
          },
          failed("os-security-groups:add", subject),
        );
        return reply(202);
      }
      case "delete":
        await tenant.delete(caller, serverKind, server, failed("servers:delete", subject), { foreground: true });
        return reply(202);
      case "action": {
        const action = await tenant.create<ServerAction>(
          caller,
          serverActionKind,
          `${server.metadata.name ?? "server"}-${effect.spec.action.toLowerCase()}-${randomSuffix(5)}`,
          (choice, p) => ({
            apiVersion: serverActionKind.apiVersion,
            kind: serverActionKind.kind,
            metadata: {
              name: choice.objectName,
              namespace: p.namespace,
              annotations: {
                [USER_ID_ANNOTATION]: caller.userId,
                "altostack.io/request-id": `req-${randomBytes(16).toString("hex")}`,
                // Actions run in request order; creationTimestamp alone cannot tell two in one second apart.
                [REQUESTED_AT_ANNOTATION]: new Date().toISOString(),
              },
            },
            spec: { serverRef: server.metadata.name ?? "", ...effect.spec },
          }),
          failed(`servers:${name}`, subject),
          { fallback: "action" },
        );
        if (effect.spec.action === "rebuild") return reply(202, showServer(server, ctx));
        if (effect.spec.action === "createImage") {
          return reply(202, atLeast(ctx.version, "2.45") ? { image_id: action.status?.image?.id ?? "" } : undefined);
        }
        return reply(202);
      }
    }
  };

  // ---- metadata and tags ----

  const replaceMetadata = async (ctx: RouteContext, metadata: Record<string, string | null>): Promise<Server> => {
    const server = await serverOr404(ctx);
    return tenant.patch<Server>(ctx.caller(), serverKind, server, { spec: { metadata } }, failed("server-metadata:update", `server ${openstackName(server)}`));
  };

  // ---- volume attachments ----

  const attachmentView = (server: Server, volumeRef: string, ctx: RouteContext) => {
    const ns = server.metadata.namespace ?? "";
    const volume = store.get<Volume>(volumeKind, `${ns}/${volumeRef}`);
    const entry = blockDevicesOf(server).find((v) => v.volumeRef === volumeRef);
    const id = volume?.metadata.uid ?? volumeRef;
    const attached = volume?.status?.attachments?.find((a) => a.serverId === server.metadata.uid);
    return {
      id,
      serverId: server.metadata.uid ?? "",
      volumeId: id,
      device: attached?.device ?? entry?.device ?? null,
      ...(atLeast(ctx.version, "2.70") ? { tag: null } : {}),
      ...(atLeast(ctx.version, "2.79") ? { delete_on_termination: entry?.deleteOnTermination === true } : {}),
    };
  };

  const attachVolume = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const server = await serverOr404(ctx);
    const { volumeAttachment: input } = await ctx.body(volumeAttachSchema);
    const volume = own(project, volumeKind, input.volumeId);
    if (volume === undefined) throw notFound(`Volume ${input.volumeId} could not be found.`);
    const elsewhere = (volume.status?.attachments ?? []).some((a) => a.serverId !== server.metadata.uid);
    if (elsewhere && volume.spec.multiattach !== true) throw badRequest(`Invalid volume: volume ${input.volumeId} status must be available, but it is in-use`);
    const entry = {
      volumeRef: volume.metadata.name ?? "",
      ...(input.delete_on_termination == null ? {} : { deleteOnTermination: input.delete_on_termination }),
      ...(input.device == null ? {} : { device: input.device }),
    };
    const updated = await tenant.patchGuarded<Server>(
      caller,
      serverKind,
      server,
      (fresh) => {
        const current = fresh.spec.volumes ?? [];
        if (current.some((v) => v.volumeRef === volume.metadata.name)) throw conflict(`Volume ${input.volumeId} is already attached to the instance.`);
        return { volumes: [...current, entry] };
      },
      failed("os-volumes-attachments:create", `server ${openstackName(server)}`),
    );
    return reply(200, { volumeAttachment: attachmentView(updated, entry.volumeRef, ctx) });
  };

  const attachedVolumeRef = (server: Server, volumeId: string): string => {
    const ns = server.metadata.namespace ?? "";
    const entry = blockDevicesOf(server).find((v) => store.get<Volume>(volumeKind, `${ns}/${v.volumeRef}`)?.metadata.uid === volumeId || v.volumeRef === volumeId);
    if (entry === undefined) throw notFound(`Volume ${volumeId} is not attached to the instance ${server.metadata.uid ?? ""}.`);
    return entry.volumeRef;
  };

  // ---- interfaces ----

  const interfaceView = (port: Port) => ({
    port_id: port.metadata.uid ?? "",
    net_id: port.status?.networkId ?? store.get<Network>(networkKind, `${port.metadata.namespace ?? ""}/${port.spec.networkRef}`)?.metadata.uid ?? "",
    mac_addr: port.status?.macAddress ?? port.spec.macAddress ?? "",
    port_state: port.status?.status ?? "DOWN",
    fixed_ips: (port.status?.fixedIPs ?? []).map((f) => ({ ip_address: f.ipAddress, subnet_id: f.subnetId ?? "" })),
  });
  const serverPorts = (server: Server): Port[] => {
    const ns = server.metadata.namespace ?? "";
    const named = new Set((server.spec.networks ?? []).flatMap((n) => (n.portRef === undefined ? [] : [n.portRef])));
    return store.inNamespace<Port>(portKind, ns).filter((p) => p.status?.deviceId === server.metadata.uid || named.has(p.metadata.name ?? ""));
  };

  const attachInterface = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const server = await serverOr404(ctx);
    const { interfaceAttachment: input } = await ctx.body(interfaceAttachSchema);
    let port: Port | undefined;
    if (input.port_id != null) {
      port = own(project, portKind, input.port_id);
      if (port === undefined) throw notFound(`Port ${input.port_id} could not be found.`);
      if (port.status?.deviceId !== undefined && port.status.deviceId !== "" && port.status.deviceId !== server.metadata.uid) {
        throw conflict(`Port ${input.port_id} is still in use.`);
      }
    } else {
      const resolver = resolverFor(caller, project);
      const networkRef = input.net_id == null ? resolver.autoNetworks()[0] : resolver.network(input.net_id);
      if (networkRef === undefined) throw notFound(`Network ${input.net_id ?? ""} could not be found.`);
      const ip = input.fixed_ips?.[0]?.ip_address;
      // As Nova does: a port on the network, created for the server and deleted again when detached.
      port = await tenant.create<Port>(
        caller,
        portKind,
        `${server.metadata.name ?? "server"}-port`,
        (choice, p) => ({
          apiVersion: portKind.apiVersion,
          kind: portKind.kind,
          metadata: { name: choice.objectName, namespace: p.namespace, annotations: { [NOVA_CREATED_PORT]: server.metadata.uid ?? "" } },
          spec: { networkRef, ...(ip === undefined ? {} : { fixedIPs: [{ ipAddress: ip }] }) },
        }),
        failed("os-attach-interfaces:create", `port on network ${input.net_id ?? ""}`),
        { fallback: "port", maxLength: 50 },
      );
    }
    const portRef = port.metadata.name ?? "";
    await tenant.patchGuarded(caller, serverKind, server, (fresh) => ({ networks: [...(fresh.spec.networks ?? []), { portRef }] }), failed("os-attach-interfaces:create", `server ${openstackName(server)}`));
    return reply(200, { interfaceAttachment: interfaceView(port) });
  };

  const detachInterface = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const server = await serverOr404(ctx);
    const port = serverPorts(server).find((p) => p.metadata.uid === ctx.params.port);
    if (port === undefined) throw notFound(`Port ${ctx.params.port ?? ""} is not attached`);
    await tenant.patchGuarded(
      caller,
      serverKind,
      server,
      (fresh) => {
        const current = fresh.spec.networks ?? [];
        const next = current.filter((n) => n.portRef !== port.metadata.name);
        if (next.length === current.length) {
          throw conflict(`Port ${ctx.params.port ?? ""} was attached through a network of the server's spec; change the server's networks instead.`);
        }
        return { networks: next };
      },
      failed("os-attach-interfaces:delete", `server ${openstackName(server)}`),
    );
    if (port.metadata.annotations?.[NOVA_CREATED_PORT] === server.metadata.uid) {
      await tenant.delete(caller, portKind, port, failed("os-attach-interfaces:delete", `port ${port.metadata.uid ?? ""}`));
    }
    return reply(202);
  };

  // ---- instance actions ----

  const instanceActionView = (action: ServerAction, server: Server) => ({
    action: action.spec.action === "liveMigrate" ? "live-migration" : action.spec.action,
    instance_uuid: server.metadata.uid ?? "",
    message: action.status?.phase === "Failed" ? (action.status.message ?? "Error") : null,
    project_id: projectIdOf(server.metadata.namespace),
    request_id: action.status?.requestId ?? action.metadata.annotations?.["altostack.io/request-id"] ?? "",
    start_time: isoSeconds(new Date(action.status?.startTime ?? action.metadata.creationTimestamp ?? 0)).replace(/Z$/, ".000000"),
    user_id: action.metadata.annotations?.[USER_ID_ANNOTATION] ?? "",
    ...(atLeast(NOVA_MAX_VERSION, "2.58") ? { updated_at: action.status?.finishTime ?? action.status?.startTime ?? null } : {}),
  });
  const actionsOf = (server: Server): ServerAction[] =>
    store
      .inNamespace<ServerAction>(serverActionKind, server.metadata.namespace ?? "")
      .filter((a) => a.spec.serverRef === server.metadata.name)
      .sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? "") - Date.parse(a.metadata.creationTimestamp ?? ""));

  const routes: Route[] = [
    { method: "GET", path: "/", public: true, handler: (ctx) => Promise.resolve(reply(200, { versions: [versionV20(ctx), versionV21(ctx)] })) },
    { method: "GET", path: "/v2.1", public: true, handler: (ctx) => Promise.resolve(reply(200, versionDoc(ctx))) },

    // flavors
    { method: "GET", path: "/v2.1/flavors", handler: (ctx) => listFlavors(ctx, false) },
    { method: "GET", path: "/v2.1/flavors/detail", handler: (ctx) => listFlavors(ctx, true) },
    { method: "POST", path: "/v2.1/flavors", handler: createFlavor },
    {
      method: "GET",
      path: "/v2.1/flavors/{id}",
      handler: async (ctx) => {
        await requireAccess(ctx.caller(), { verb: "list", resource: flavorKind }, policy("flavors:show"));
        return reply(200, { flavor: flavorView(flavorOr404(ctx), ctx.version, ctx.serviceUrl) });
      },
    },
    {
      method: "PUT",
      path: "/v2.1/flavors/{id}",
      handler: async (ctx) => {
        if (!atLeast(ctx.version, "2.55")) throw new ApiError(404, "The resource could not be found.");
        const { flavor: input } = await ctx.body(z.object({ flavor: z.object({ description: z.string().max(65535).nullable() }) }));
        const updated = await patchFlavor(ctx.caller(), flavorOr404(ctx), { spec: { description: input.description } }, "os-flavor-manage:update");
        return reply(200, { flavor: flavorView(updated, ctx.version, ctx.serviceUrl) });
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/flavors/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const flavor = flavorOr404(ctx);
        try {
          await caller.kube.delete(flavorKind, flavor.metadata.name ?? "");
        } catch (e) {
          throw fromKube(e, "os-flavor-manage:delete", `flavor ${openstackName(flavor)}`);
        }
        await store.deleted(flavorKind, flavor);
        return reply(202);
      },
    },
    { method: "POST", path: "/v2.1/flavors/{id}/action", handler: flavorAction },
    {
      method: "GET",
      path: "/v2.1/flavors/{id}/os-flavor-access",
      handler: (ctx) => {
        const flavor = flavorOr404(ctx);
        if (flavor.spec.isPublic !== false) throw notFound("Access list not available for public flavors.");
        return Promise.resolve(reply(200, flavorAccess(flavor)));
      },
    },
    { method: "GET", path: "/v2.1/flavors/{id}/os-extra_specs", handler: (ctx) => Promise.resolve(reply(200, { extra_specs: { ...flavorOr404(ctx).spec.extraSpecs } })) },
    {
      method: "POST",
      path: "/v2.1/flavors/{id}/os-extra_specs",
      handler: async (ctx) => {
        const { extra_specs: specs } = await ctx.body(extraSpecsSchema);
        await setExtraSpecs(ctx, specs);
        return reply(200, { extra_specs: specs });
      },
    },
    {
      method: "GET",
      path: "/v2.1/flavors/{id}/os-extra_specs/{key}",
      handler: (ctx) => {
        const value = flavorOr404(ctx).spec.extraSpecs?.[ctx.params.key ?? ""];
        if (value === undefined) throw notFound(`Flavor ${ctx.params.id ?? ""} has no extra specs with key ${ctx.params.key ?? ""}.`);
        return Promise.resolve(reply(200, { [ctx.params.key ?? ""]: value }));
      },
    },
    {
      method: "PUT",
      path: "/v2.1/flavors/{id}/os-extra_specs/{key}",
      handler: async (ctx) => {
        const key = ctx.params.key ?? "";
        const body = await ctx.body(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)));
        const entries = Object.entries(body);
        if (entries.length !== 1 || entries[0]?.[0] !== key) throw badRequest("Request body and URI mismatch");
        await setExtraSpecs(ctx, body);
        return reply(200, body);
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/flavors/{id}/os-extra_specs/{key}",
      handler: async (ctx) => {
        const key = ctx.params.key ?? "";
        if (flavorOr404(ctx).spec.extraSpecs?.[key] === undefined) throw notFound(`Flavor ${ctx.params.id ?? ""} has no extra specs with key ${key}.`);
        await setExtraSpecs(ctx, { [key]: null });
        return reply(200);
      },
    },

    // keypairs
    {
      method: "GET",
      path: "/v2.1/os-keypairs",
      handler: async (ctx) => {
        const keypairs = await tenant.list<Keypair>(ctx.caller(), keypairKind, policy("os-keypairs:index"));
        keypairs.sort((a, b) => openstackName(a).localeCompare(openstackName(b)));
        const views = keypairs.map((k) => ({ id: openstackName(k), keypair: keypairView(keypairInput(k), ctx.version) }));
        const page = atLeast(ctx.version, "2.35") ? paginate(views, parsePage(ctx.query), undefined, { linkWhenFull: true }) : { items: views, nextMarker: undefined };
        return reply(200, {
          keypairs: page.items.map(({ keypair }) => ({ keypair })),
          ...(page.nextMarker === undefined ? {} : { keypairs_links: [{ rel: "next", href: nextHref(`${ctx.serviceUrl}${ctx.path}`, ctx.query, page.nextMarker) }] }),
        });
      },
    },
    { method: "POST", path: "/v2.1/os-keypairs", handler: createKeypair },
    { method: "GET", path: "/v2.1/os-keypairs/{name}", handler: async (ctx) => reply(200, { keypair: keypairDetailView(keypairInput(await keypairOr404(ctx)), ctx.version) }) },
    {
      method: "DELETE",
      path: "/v2.1/os-keypairs/{name}",
      handler: async (ctx) => {
        const keypair = await keypairOr404(ctx);
        await tenant.delete(ctx.caller(), keypairKind, keypair, failed("os-keypairs:delete", `keypair ${openstackName(keypair)}`));
        return reply(atLeast(ctx.version, "2.2") ? 204 : 202);
      },
    },

    // servers
    { method: "GET", path: "/v2.1/servers", handler: (ctx) => listServers(ctx, false) },
    { method: "GET", path: "/v2.1/servers/detail", handler: (ctx) => listServers(ctx, true) },
    { method: "POST", path: "/v2.1/servers", handler: createServers },
    { method: "GET", path: "/v2.1/servers/{id}", handler: async (ctx) => reply(200, showServer(await serverOr404(ctx), ctx)) },
    { method: "PUT", path: "/v2.1/servers/{id}", handler: updateServer },
    {
      method: "DELETE",
      path: "/v2.1/servers/{id}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        if (server.spec.locked === true && !ctx.caller().cloudAdmin) throw conflict(`Instance ${server.metadata.uid ?? ""} is locked`);
        await tenant.delete(ctx.caller(), serverKind, server, failed("servers:delete", `server ${openstackName(server)}`), { foreground: true });
        return reply(204);
      },
    },
    { method: "POST", path: "/v2.1/servers/{id}/action", handler: serverAction },
    {
      method: "POST",
      path: "/v2.1/servers/{id}/remote-consoles",
      handler: async (ctx) => {
        if (!atLeast(ctx.version, "2.6")) throw new ApiError(404, "The resource could not be found.");
        const server = await serverOr404(ctx);
        const { remote_console: input } = await ctx.body(remoteConsoleSchema);
        const url = await remoteConsoleUrl(ctx, server, input.protocol, input.type);
        return reply(200, { remote_console: { protocol: input.protocol, type: input.type, url } });
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/ips",
      handler: async (ctx) => {
        const view = serverView(serverInput(await serverOr404(ctx), ctx), ctx.version, { show: true });
        return reply(200, { addresses: view.addresses });
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/ips/{network}",
      handler: async (ctx) => {
        const view = serverView(serverInput(await serverOr404(ctx), ctx), ctx.version, { show: true });
        const addresses = (view.addresses as Record<string, unknown>)[ctx.params.network ?? ""];
        if (addresses === undefined) throw notFound("Instance is not a member of specified network");
        return reply(200, { [ctx.params.network ?? ""]: addresses });
      },
    },
    { method: "GET", path: "/v2.1/servers/{id}/metadata", handler: async (ctx) => reply(200, { metadata: { ...(await serverOr404(ctx)).spec.metadata } }) },
    {
      method: "POST",
      path: "/v2.1/servers/{id}/metadata",
      handler: async (ctx) => {
        const { metadata } = await ctx.body(metadataSchema);
        const updated = await replaceMetadata(ctx, metadata);
        return reply(200, { metadata: { ...updated.spec.metadata } });
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/{id}/metadata",
      handler: async (ctx) => {
        const { metadata } = await ctx.body(metadataSchema);
        const server = await serverOr404(ctx);
        const removed = Object.fromEntries(Object.keys(server.spec.metadata ?? {}).filter((k) => !(k in metadata)).map((k) => [k, null]));
        await replaceMetadata(ctx, { ...removed, ...metadata });
        return reply(200, { metadata });
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/metadata/{key}",
      handler: async (ctx) => {
        const value = (await serverOr404(ctx)).spec.metadata?.[ctx.params.key ?? ""];
        if (value === undefined) throw notFound("Metadata item was not found");
        return reply(200, { meta: { [ctx.params.key ?? ""]: value } });
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/{id}/metadata/{key}",
      handler: async (ctx) => {
        const { meta } = await ctx.body(metaItemSchema);
        if (Object.keys(meta).length !== 1 || !((ctx.params.key ?? "") in meta)) throw badRequest("Request body and URI mismatch");
        await replaceMetadata(ctx, meta);
        return reply(200, { meta });
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/{id}/metadata/{key}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        if (server.spec.metadata?.[ctx.params.key ?? ""] === undefined) throw notFound("Metadata item was not found");
        await replaceMetadata(ctx, { [ctx.params.key ?? ""]: null });
        return reply(204);
      },
    },
    { method: "GET", path: "/v2.1/servers/{id}/tags", handler: async (ctx) => reply(200, { tags: [...((await serverOr404(ctx)).spec.tags ?? [])] }) },
    {
      method: "PUT",
      path: "/v2.1/servers/{id}/tags",
      handler: async (ctx) => {
        const { tags } = await ctx.body(z.object({ tags: z.array(z.string().min(1).max(60)).max(50) }));
        const server = await serverOr404(ctx);
        await tenant.patch(ctx.caller(), serverKind, server, { spec: { tags: [...new Set(tags)] } }, failed("os-server-tags:update_all", `server ${openstackName(server)}`));
        return reply(200, { tags: [...new Set(tags)] });
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/{id}/tags/{tag}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        const tag = ctx.params.tag ?? "";
        if ((server.spec.tags ?? []).includes(tag)) return reply(204);
        await tenant.patchGuarded(ctx.caller(), serverKind, server, (fresh) => ({ tags: [...new Set([...(fresh.spec.tags ?? []), tag])] }), failed("os-server-tags:update", `server ${openstackName(server)}`));
        return reply(201, undefined, { Location: `${ctx.serviceUrl}/v2.1/servers/${server.metadata.uid ?? ""}/tags/${tag}` });
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/{id}/tags/{tag}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        if (!(server.spec.tags ?? []).includes(ctx.params.tag ?? "")) throw notFound(`Tag ${ctx.params.tag ?? ""} could not be found.`);
        await tenant.patchGuarded(ctx.caller(), serverKind, server, (fresh) => ({ tags: (fresh.spec.tags ?? []).filter((t) => t !== ctx.params.tag) }), failed("os-server-tags:delete", `server ${openstackName(server)}`));
        return reply(204);
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/os-volume_attachments",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        return reply(200, { volumeAttachments: blockDevicesOf(server).map((v) => attachmentView(server, v.volumeRef, ctx)) });
      },
    },
    { method: "POST", path: "/v2.1/servers/{id}/os-volume_attachments", handler: attachVolume },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/os-volume_attachments/{volume}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        return reply(200, { volumeAttachment: attachmentView(server, attachedVolumeRef(server, ctx.params.volume ?? ""), ctx) });
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/{id}/os-volume_attachments/{volume}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        const ref = attachedVolumeRef(server, ctx.params.volume ?? "");
        if (ref === bootVolumeOf(server)) throw badRequest("Cannot detach a root device volume");
        await tenant.patchGuarded(ctx.caller(), serverKind, server, (fresh) => ({ volumes: (fresh.spec.volumes ?? []).filter((v) => v.volumeRef !== ref) }), failed("os-volumes-attachments:delete", `server ${openstackName(server)}`));
        return reply(202);
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/os-interface",
      handler: async (ctx) => reply(200, { interfaceAttachments: serverPorts(await serverOr404(ctx)).map(interfaceView) }),
    },
    { method: "POST", path: "/v2.1/servers/{id}/os-interface", handler: attachInterface },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/os-interface/{port}",
      handler: async (ctx) => {
        const port = serverPorts(await serverOr404(ctx)).find((p) => p.metadata.uid === ctx.params.port);
        if (port === undefined) throw notFound(`Port ${ctx.params.port ?? ""} is not attached`);
        return reply(200, { interfaceAttachment: interfaceView(port) });
      },
    },
    { method: "DELETE", path: "/v2.1/servers/{id}/os-interface/{port}", handler: detachInterface },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/os-instance-actions",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        return reply(200, { instanceActions: actionsOf(server).map((a) => instanceActionView(a, server)) });
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/{id}/os-instance-actions/{request}",
      handler: async (ctx) => {
        const server = await serverOr404(ctx);
        const action = actionsOf(server).find((a) => instanceActionView(a, server).request_id === ctx.params.request);
        if (action === undefined) throw notFound(`Action for request_id ${ctx.params.request ?? ""} on instance ${server.metadata.uid ?? ""} not found`);
        return reply(200, { instanceAction: { ...instanceActionView(action, server), events: [] } });
      },
    },

    // limits, quotas, availability zones
    {
      method: "GET",
      path: "/v2.1/limits",
      handler: (ctx) => {
        const project = requireProject(ctx.caller());
        const object = identity.projectByObjectName(project.objectName);
        if (object === undefined) throw notFound(`Project ${project.id} could not be found.`);
        return Promise.resolve(reply(200, limitsView(quotasOf(object), usageOf(project.namespace), ctx.version)));
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-quota-sets/{project}",
      handler: async (ctx) => {
        const project = await projectForQuota(ctx);
        return reply(200, quotaSetView(project.metadata.uid ?? "", quotasOf(project), undefined, ctx.version));
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-quota-sets/{project}/detail",
      handler: async (ctx) => {
        const project = await projectForQuota(ctx);
        const usage = usageOf(project.status?.namespace ?? `project-${project.metadata.name ?? ""}`);
        return reply(200, quotaSetView(project.metadata.uid ?? "", quotasOf(project), usage, ctx.version));
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-quota-sets/{project}/defaults",
      handler: async (ctx) => {
        const project = await projectForQuota(ctx);
        const defaults = effectiveQuotas({ ...project, spec: {} });
        return reply(200, quotaSetView(project.metadata.uid ?? "", { instances: defaults.instances, cores: defaults.cores, ram: defaults.ram }, undefined, ctx.version));
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-quota-sets/{project}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const project = identity.projectById(ctx.params.project ?? "");
        if (project === undefined) throw notFound(`Project ${ctx.params.project ?? ""} could not be found.`);
        const { quota_set: input } = await ctx.body(quotaUpdateSchema);
        const quotas = namedQuotas({ instances: input.instances, cores: input.cores, ram: input.ram });
        let updated: Project;
        try {
          updated = await writeProjectQuotas(caller, store, project, quotas);
        } catch (e) {
          throw fromKube(e, "os-quota-sets:update", `quotas of project ${openstackName(project)}`);
        }
        const effective = effectiveQuotas(updated);
        const { id: _id, ...set } = quotaSetView("", { instances: effective.instances, cores: effective.cores, ram: effective.ram }, undefined, ctx.version).quota_set;
        return reply(200, { quota_set: set });
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-availability-zone",
      handler: (ctx) => {
        ctx.caller();
        return Promise.resolve(reply(200, { availabilityZoneInfo: zones().map((zoneName) => ({ zoneName, zoneState: { available: true }, hosts: null })) }));
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-availability-zone/detail",
      handler: (ctx) => {
        if (!ctx.caller().cloudAdmin) throw forbidden(`Policy doesn't allow ${policy("os-availability-zone:detail")} to be performed.`);
        const hosts = hostsByZone(store);
        const service = { "nova-compute": { available: true, active: true, updated_at: null } };
        return Promise.resolve(
          reply(200, {
            availabilityZoneInfo: zones().map((zoneName) => ({
              zoneName,
              zoneState: { available: true },
              hosts: hosts.has(zoneName) ? Object.fromEntries((hosts.get(zoneName) ?? []).map((h) => [h, service])) : null,
            })),
          }),
        );
      },
    },
  ];

  return {
    type: "compute",
    prefix: SERVICE_PREFIXES.compute,
    faultStyle: "nova",
    routes,
    microversions: { serviceType: "compute", legacyHeader: "X-OpenStack-Nova-API-Version", min: NOVA_MIN_VERSION, max: NOVA_MAX_VERSION },
    unversionedPaths: ["/", "/v2.1"],
  };
}
