// Zun v1 (microversions ZUN_MIN_VERSION–ZUN_MAX_VERSION) over Container objects: the version documents
// python-zunclient negotiates from, containers (list, create/run, show by uuid or name, update, delete) and the
// start/stop/reboot/kill actions, which change spec.state and spec.restartGeneration — the Container
// reconciler does the rest. The container's uuid is the Container's metadata.uid.
import {
  containerKind,
  networkKind,
  openstackName,
  portKind,
  projectOfNamespace,
  securityGroupKind,
  volumeKind,
  type Container,
  type KindObject,
  type Network,
  type Port,
  type SecurityGroup,
} from "../../api/index.js";
import { instancePortKeys } from "../../reconcilers/port/instance-networking.js";
import { requireAccess, requireProject, type Caller, type CallerProject } from "../common/caller.js";
import type { ServiceDeps } from "../common/deps.js";
import { conflict, forbidden, notFound, notImplemented, type ApiError } from "../common/errors.js";
import { queryFlag, reply, type Reply, type Route, type RouteContext, type Service } from "../common/http.js";
import { filterItems, nextHref, paginate, parsePage, parseSort, sortItems, type JsonObject } from "../common/listing.js";
import { TenantAccess } from "../common/tenant.js";
import { availabilityZones } from "../common/zones.js";
import { SERVICE_PREFIXES } from "../keystone/catalog.js";
import { USER_ID_ANNOTATION } from "../nova/views.js";
import {
  containerCreateSchema,
  containerUpdateSchema,
  killRefusal,
  planContainerCreate,
  planContainerUpdate,
  stateRefusal,
  type ContainerAction,
  type ContainerResolver,
} from "./requests.js";
import { ZUN_MAX_VERSION, ZUN_MIN_VERSION, containerView, zunStatusOf, zunVersion, zunRootDocument } from "./views.js";
import { specNameOf } from "../common/names.js";
import { byIdOrUniqueName, networkRefById } from "../common/refs.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Zun actions a Pod here cannot do, with what to do instead (501). */
const UNSUPPORTED_ACTIONS: Readonly<Record<string, string>> = {
  pause: "Pausing a container is not supported: stop it instead.",
  unpause: "Pausing a container is not supported: start it instead.",
  rebuild: "Rebuilding a container is not supported: delete it and run a new one.",
  rename: "Rename a container with PATCH (openstack appcontainer set --name).",
  commit: "Committing a container to an image is not supported.",
  execute: "Executing commands in a container is not supported.",
  execute_resize: "Executing commands in a container is not supported.",
  attach: "Attaching to a container is not supported.",
  resize: "Attaching to a container is not supported.",
  put_archive: "Copying files into a container is not supported.",
  network_attach: "Networks cannot be attached to a running container: delete it and run it with --net.",
  network_detach: "Networks cannot be detached from a running container: delete it and run it again.",
  add_security_group: "Change the security groups of the container's ports instead (openstack port set --security-group).",
  remove_security_group: "Change the security groups of the container's ports instead (openstack port unset --security-group).",
};
const UNSUPPORTED_READS: Readonly<Record<string, string>> = {
  logs: "Container logs are not available through this API.",
  top: "Listing a container's processes is not supported.",
  stats: "Container statistics are not available through this API.",
  get_archive: "Copying files out of a container is not supported.",
  network_list: "List the container's ports instead (openstack port list --device-id <container uuid>).",
  container_actions: "Container action records are not kept.",
};

export function zunService(deps: ServiceDeps): Service {
  const { store, identity } = deps;
  const tenant = new TenantAccess(store, "zun");
  const failed = (action: string, subject: string) => ({ policy: `container:${action}`, subject });

  const projectIdOf = (namespace: string | undefined): string => {
    const name = projectOfNamespace(namespace);
    return name === undefined ? "" : (identity.projectByObjectName(name)?.metadata.uid ?? "");
  };

  const show = (container: Container, ctx: RouteContext): JsonObject => {
    const ns = container.metadata.namespace ?? "";
    const networks = container.spec.networks ?? [];
    const attached = instancePortKeys(container).map((key, i) => ({
      port: store.get<Port>(portKind, key),
      userPort: networks[i]?.portRef !== undefined,
    }));
    const groups = (container.spec.securityGroupRefs ?? []).map((ref) => {
      const group = store.get<SecurityGroup>(securityGroupKind, `${ns}/${ref}`);
      return group === undefined ? ref : openstackName(group);
    });
    return containerView({
      container,
      attached,
      securityGroupNames: groups,
      projectId: projectIdOf(ns),
      userId: container.metadata.annotations?.[USER_ID_ANNOTATION] ?? "",
      serviceUrl: ctx.serviceUrl,
      admin: ctx.caller().cloudAdmin,
    });
  };

  const allProjects = (ctx: RouteContext, caller: Caller): boolean => {
    const asked = queryFlag(ctx.query, "all_projects") || queryFlag(ctx.query, "all_tenants");
    if (asked && !caller.cloudAdmin) throw forbidden("Policy doesn't allow container:get_all_all_projects to be performed.");
    return asked;
  };

  /** The caller's container by uuid, or by name as Zun looks it up (several with that name: 409). */
  const containerOr404 = async (ctx: RouteContext): Promise<Container> => {
    const caller = ctx.caller();
    requireProject(caller);
    const ident = ctx.params.id ?? "";
    if (UUID.test(ident)) {
      const found = await tenant.find<Container>(caller, containerKind, ident, "container:get_one");
      if (found !== undefined) return found;
    }
    const candidates = allProjects(ctx, caller)
      ? await tenant.listAll<Container>(caller, containerKind, "container:get_one")
      : await tenant.list<Container>(caller, containerKind, "container:get_one");
    const named = candidates.filter((c) => openstackName(c) === ident);
    if (named.length > 1) throw conflict(`Multiple containers exist with same name ${ident}. Please use the container uuid instead.`);
    const container = named[0];
    if (container === undefined) throw notFound(`Container ${ident} could not be found.`);
    return container;
  };

  const resolverFor = (project: CallerProject): ContainerResolver => {
    const inProject = <K extends typeof networkKind | typeof portKind | typeof securityGroupKind | typeof volumeKind>(kind: K, idOrName: string, what: string): KindObject<K> | undefined =>
      byIdOrUniqueName(
        store.inNamespace<KindObject<K>>(kind, project.namespace).filter((o) => o.metadata.deletionTimestamp === undefined),
        idOrName,
        what,
      );
    return {
      network: (idOrName) => {
        const own = inProject(networkKind, idOrName, "network");
        return own !== undefined ? own.metadata.name : networkRefById(store, project.namespace, idOrName);
      },
      port: (idOrName) => inProject(portKind, idOrName, "port")?.metadata.name,
      securityGroup: (nameOrId) => inProject(securityGroupKind, nameOrId, "security group")?.metadata.name,
      volume: (nameOrId) => inProject(volumeKind, nameOrId, "volume")?.metadata.name,
      autoNetworks: () =>
        store
          .inNamespace<Network>(networkKind, project.namespace)
          .filter((n) => n.metadata.deletionTimestamp === undefined)
          .map((n) => n.metadata.name ?? ""),
      availabilityZones: () => availabilityZones(store),
    };
  };

  // ---- containers ----

  const listContainers = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const containers = allProjects(ctx, caller)
      ? await tenant.listAll<Container>(caller, containerKind, "container:get_all_all_projects")
      : await tenant.list<Container>(caller, containerKind, "container:get_all");
    const query = new URLSearchParams(ctx.query);
    // Zun sorts ascending unless told otherwise.
    if (query.has("sort_key") && !query.has("sort_dir")) query.set("sort_dir", "asc");
    let rows = containers.map((c) => ({ ...show(c, ctx), id: c.metadata.uid ?? "" }));
    rows = filterItems(rows, query, ["name", "image", "status", "project_id", "user_id", "host", "memory", "task_state", "auto_remove"]);
    rows = sortItems(rows, parseSort(query, ["uuid", "name", "image", "status", "cpu", "memory", "project_id", "user_id"], [{ key: "name", dir: "asc" }]));
    const page = paginate(rows, parsePage(query), (m) => notFound(`Container ${m} could not be found.`));
    return reply(200, {
      containers: page.items.map(({ id: _id, ...view }) => view),
      ...(page.nextMarker === undefined ? {} : { next: nextHref(`${ctx.serviceUrl}${ctx.path}`, query, page.nextMarker) }),
    });
  };

  const createContainer = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const body = await ctx.body(containerCreateSchema);
    const plan = planContainerCreate(body, queryFlag(ctx.query, "run"), resolverFor(project));
    const created = await tenant.create<Container>(
      caller,
      containerKind,
      plan.name,
      (choice, p) => ({
        apiVersion: containerKind.apiVersion,
        kind: containerKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace, annotations: { [USER_ID_ANNOTATION]: caller.userId } },
        spec: { ...specNameOf(choice), ...plan.spec },
      }),
      failed("create", `container ${plan.name}`),
      { fallback: "container", maxLength: 50 },
    );
    return reply(202, show(created, ctx));
  };

  /** Zun checks the policy before the container's state: a reader gets 403, not 409. */
  const mayWrite = (caller: Caller, verb: "patch" | "delete", container: Container, policy: string): Promise<void> =>
    requireAccess(caller, { verb, resource: containerKind, namespace: container.metadata.namespace, name: container.metadata.name }, policy);

  const updateContainer = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const container = await containerOr404(ctx);
    const plan = planContainerUpdate(await ctx.body(containerUpdateSchema));
    const uuid = container.metadata.uid ?? "";
    await mayWrite(caller, "patch", container, "container:update");
    const updated = await tenant.patchGuarded<Container>(
      caller,
      containerKind,
      container,
      (current) => {
        const refusal = stateRefusal("update", uuid, zunStatusOf(current));
        if (refusal !== undefined) throw refusal;
        // A name equal to the object's name is kept in metadata.name alone (as other services do).
        return { ...plan.spec, ...(plan.name === undefined ? {} : { name: plan.name === current.metadata.name ? null : plan.name }) };
      },
      failed("update", `container ${uuid}`),
    );
    return reply(200, show(updated, ctx));
  };

  const deleteContainer = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const container = await containerOr404(ctx);
    const uuid = container.metadata.uid ?? "";
    const action: ContainerAction = queryFlag(ctx.query, "force") ? "delete_force" : queryFlag(ctx.query, "stop") ? "delete_after_stop" : "delete";
    await mayWrite(caller, "delete", container, "container:delete");
    const refusal = stateRefusal(action, uuid, zunStatusOf(container));
    if (refusal !== undefined) throw refusal;
    // Deleting the Container stops it: its Pod goes first (the reconciler's finalizer), then its ports.
    await tenant.delete(caller, containerKind, container, failed("delete", `container ${uuid}`));
    return reply(204);
  };

  /** Applies an action's spec change to the freshest object, after Zun's state check on that object. */
  const act = async (ctx: RouteContext, action: ContainerAction, change: (current: Container) => Record<string, unknown>): Promise<Reply> => {
    const caller = ctx.caller();
    const container = await containerOr404(ctx);
    const uuid = container.metadata.uid ?? "";
    await mayWrite(caller, "patch", container, `container:${action}`);
    await tenant.patchGuarded<Container>(
      caller,
      containerKind,
      container,
      (current) => {
        const refusal: ApiError | undefined = stateRefusal(action, uuid, zunStatusOf(current));
        if (refusal !== undefined) throw refusal;
        return change(current);
      },
      failed(action, `container ${uuid}`),
    );
    return reply(202);
  };

  const unsupported = (method: "GET" | "POST", table: Readonly<Record<string, string>>): Route[] =>
    Object.entries(table).map(([action, message]) => ({
      method,
      path: `/v1/containers/{id}/${action}`,
      handler: async (ctx) => {
        await containerOr404(ctx);
        throw notImplemented(message);
      },
    }));

  const routes: Route[] = [
    { method: "GET", path: "/", public: true, handler: (ctx) => Promise.resolve(reply(200, zunRootDocument(ctx.serviceUrl))) },
    {
      method: "GET",
      path: "/v1",
      public: true,
      handler: (ctx) =>
        Promise.resolve(
          reply(200, {
            ...zunVersion(ctx.serviceUrl),
            media_types: [{ base: "application/json", type: "application/vnd.openstack.zun.v1+json" }],
            containers: [
              { href: `${ctx.serviceUrl}/v1/containers/`, rel: "self" },
              { href: `${ctx.serviceUrl}/containers/`, rel: "bookmark" },
            ],
          }),
        ),
    },
    { method: "GET", path: "/v1/containers", handler: listContainers },
    { method: "POST", path: "/v1/containers", handler: createContainer },
    { method: "GET", path: "/v1/containers/{id}", handler: async (ctx) => reply(200, show(await containerOr404(ctx), ctx)) },
    { method: "PATCH", path: "/v1/containers/{id}", handler: updateContainer },
    { method: "DELETE", path: "/v1/containers/{id}", handler: deleteContainer },
    { method: "POST", path: "/v1/containers/{id}/start", handler: (ctx) => act(ctx, "start", () => ({ state: "Running" })) },
    { method: "POST", path: "/v1/containers/{id}/stop", handler: (ctx) => act(ctx, "stop", () => ({ state: "Stopped" })) },
    {
      method: "POST",
      path: "/v1/containers/{id}/kill",
      handler: (ctx) => {
        const refusal = killRefusal(ctx.query.get("signal"));
        if (refusal !== undefined) throw refusal;
        return act(ctx, "kill", () => ({ state: "Stopped" }));
      },
    },
    {
      method: "POST",
      path: "/v1/containers/{id}/reboot",
      // A restart runs the container again, also one that was stopped (Zun's reboot of a Stopped container).
      handler: (ctx) => act(ctx, "reboot", (current) => ({ state: "Running", restartGeneration: (current.spec.restartGeneration ?? 0) + 1 })),
    },
    ...unsupported("POST", UNSUPPORTED_ACTIONS),
    ...unsupported("GET", UNSUPPORTED_READS),
  ];

  return {
    type: "container",
    prefix: SERVICE_PREFIXES.container,
    faultStyle: "zun",
    routes,
    microversions: { serviceType: "container", min: ZUN_MIN_VERSION, max: ZUN_MAX_VERSION },
    unversionedPaths: ["/", "/v1"],
  };
}
