// Cinder v3 (microversions 3.0–CINDER_MAX_VERSION): version documents, volumes (→ Volume objects) and their
// actions, snapshots (→ Snapshot objects), volume types (from configuration), limits, quota sets, availability
// zones. URLs carry the project id (`/v3/{project_id}/…`) or, from 3.67, none.
import { z } from "zod";
import { namedQuotas, writeProjectQuotas } from "../common/quotas.js";
import {
  CONTAINER_FORMATS,
  DISK_FORMATS,
  IMAGE_VISIBILITIES,
  imageKind,
  openstackName,
  projectKind,
  projectOfNamespace,
  snapshotKind,
  volumeKind,
  type Image,
  type Project,
  type Snapshot,
  type Volume,
} from "../../api/index.js";
import { effectiveQuotas } from "../../reconcilers/project/desired.js";
import { requireAccess, requireProject, type Caller } from "../common/caller.js";
import type { ServiceDeps } from "../common/deps.js";
import { ApiError, badRequest, forbidden, notFound, notImplemented } from "../common/errors.js";
import { reply, type Handler, type Reply, type Route, type RouteContext, type Service } from "../common/http.js";
import { fromKubeError } from "../common/kube-errors.js";
import { atLeast } from "../common/microversion.js";
import { filterItems, nextHref, paginate, parsePage, parseSort, sortItems, type JsonObject } from "../common/listing.js";
import { TenantAccess } from "../common/tenant.js";
import { availabilityZones } from "../common/zones.js";
import { DEFAULT_VOLUME_TYPE } from "../config.js";
import { SERVICE_PREFIXES } from "../keystone/catalog.js";
import { USER_ID_ANNOTATION } from "../nova/views.js";
import {
  CINDER_MAX_VERSION,
  CINDER_MIN_VERSION,
  snapshotView,
  volumeStatusOf,
  volumeTypeId,
  volumeTypeView,
  volumeView,
} from "./views.js";
import { snapshotCreateRefusal } from "./policy.js";
import { specNameOf } from "../common/names.js";
import { imageRefById } from "../common/refs.js";

const intLike = z.union([z.int(), z.string().regex(/^\s*\d+\s*$/).transform((s) => Number(s.trim()))]);
const metadata = z.record(z.string().min(1).max(255), z.string().max(255));

const volumeCreateSchema = z.object({
  volume: z.object({
    size: intLike.pipe(z.int().min(1).max(65536)).nullish(),
    name: z.string().max(255).nullish(),
    description: z.string().max(255).nullish(),
    volume_type: z.string().max(255).nullish(),
    availability_zone: z.string().max(255).nullish(),
    snapshot_id: z.string().nullish(),
    source_volid: z.string().nullish(),
    imageRef: z.string().nullish(),
    image_id: z.string().nullish(),
    metadata: metadata.nullish(),
    multiattach: z.boolean().nullish(),
    consistencygroup_id: z.string().nullish(),
    group_id: z.string().nullish(),
    backup_id: z.string().nullish(),
    source_replica: z.string().nullish(),
  }),
  "OS-SCH-HNT:scheduler_hints": z.looseObject({}).nullish(),
});
const volumeUpdateSchema = z.object({
  volume: z.object({ name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), metadata: metadata.nullish() }),
});
const snapshotCreateSchema = z.object({
  snapshot: z.object({
    volume_id: z.string().min(1),
    name: z.string().max(255).nullish(),
    description: z.string().max(255).nullish(),
    force: z.union([z.boolean(), z.string().transform((s) => s.toLowerCase() === "true")]).nullish(),
    metadata: metadata.nullish(),
  }),
});
const snapshotUpdateSchema = z.object({
  snapshot: z.object({ name: z.string().max(255).nullish(), description: z.string().max(255).nullish() }),
});
const quotaUpdateSchema = z.object({
  quota_set: z.looseObject({ volumes: z.int().min(-1).nullish(), gigabytes: z.int().min(-1).nullish(), snapshots: z.int().min(-1).nullish() }),
});

/** Volume actions we do not implement: what Nova uses internally, and what a Kubernetes volume cannot do. */
/** Statuses in which a server holds the volume (Cinder refuses to delete it). */
const ATTACHED_STATUSES: ReadonlySet<string> = new Set(["reserved", "attaching", "in-use", "detaching"]);

const UNSUPPORTED_ACTIONS: Readonly<Record<string, string>> = {
  "os-retype":
    "Retyping a volume is not supported: its StorageClass cannot change. Copy it into a volume of the other type instead (openstack volume create --source <volume> --type <type> --size <size> <name>).",
  "os-migrate_volume": "Volume migration is not supported.",
  "os-reset_status": "Resetting a volume's status is not supported: the status comes from the volume controller.",
  "os-attach": "Attach volumes through Nova (server add volume).",
  "os-detach": "Detach volumes through Nova (server remove volume).",
  "os-reserve": "Attach volumes through Nova (server add volume).",
  "os-unreserve": "Attach volumes through Nova (server add volume).",
  "os-begin_detaching": "Detach volumes through Nova (server remove volume).",
  "os-roll_detaching": "Detach volumes through Nova (server remove volume).",
  "os-initialize_connection": "Attach volumes through Nova (server add volume).",
  "os-terminate_connection": "Detach volumes through Nova (server remove volume).",
  revert: "Reverting a volume to a snapshot is not supported yet.",
};

const uploadToImageSchema = z.object({
  image_name: z.string().min(1).max(255),
  force: z.union([z.boolean(), z.string()]).nullish(),
  disk_format: z.enum(DISK_FORMATS).nullish(),
  container_format: z.enum(CONTAINER_FORMATS).nullish(),
  visibility: z.enum(IMAGE_VISIBILITIES).nullish(),
  protected: z.boolean().nullish(),
});

export function cinderService(deps: ServiceDeps): Service {
  const { store, identity, config } = deps;
  const tenant = new TenantAccess(store, "cinder");
  const failed = (action: string, subject: string) => ({ policy: `volume:${action}`, subject });
  const defaultType = config.volumeTypes[0]?.name ?? DEFAULT_VOLUME_TYPE;

  const projectIdOf = (namespace: string | undefined): string => {
    const name = projectOfNamespace(namespace);
    return name === undefined ? "" : (identity.projectByObjectName(name)?.metadata.uid ?? "");
  };
  const typeByIdOrName = (idOrName: string) => config.volumeTypes.find((t) => t.name === idOrName || volumeTypeId(t.name) === idOrName);

  const showVolume = (volume: Volume, ctx: RouteContext) => {
    const ns = volume.metadata.namespace ?? "";
    const source = volume.spec.source;
    return volumeView(
      {
        volume,
        volumeUrl: ctx.serviceUrl,
        projectId: projectIdOf(ns),
        userId: volume.metadata.annotations?.[USER_ID_ANNOTATION] ?? "",
        typeName: volume.spec.volumeType ?? defaultType,
        snapshotId: source?.snapshotRef === undefined ? null : (store.get<Snapshot>(snapshotKind, `${ns}/${source.snapshotRef}`)?.metadata.uid ?? null),
        sourceVolumeId: source?.volumeRef === undefined ? null : (store.get<Volume>(volumeKind, `${ns}/${source.volumeRef}`)?.metadata.uid ?? null),
        admin: ctx.caller().cloudAdmin,
      },
      ctx.version,
    );
  };
  const showSnapshot = (snapshot: Snapshot, ctx: RouteContext) => {
    const ns = snapshot.metadata.namespace ?? "";
    return snapshotView(
      {
        snapshot,
        projectId: projectIdOf(ns),
        userId: snapshot.metadata.annotations?.[USER_ID_ANNOTATION] ?? "",
        volumeId: store.get<Volume>(volumeKind, `${ns}/${snapshot.spec.volumeRef}`)?.metadata.uid ?? "",
      },
      ctx.version,
    );
  };

  /** The URL's project must be the token's (Cinder answers "Malformed request url" otherwise). */
  const checkProject = (ctx: RouteContext): Caller => {
    const caller = ctx.caller();
    const urlProject = ctx.params.project_id;
    if (urlProject !== undefined && urlProject !== caller.project?.id && !caller.cloudAdmin) throw badRequest("Malformed request url");
    requireProject(caller);
    return caller;
  };

  const volumeOr404 = async (ctx: RouteContext, id = ctx.params.id ?? ""): Promise<Volume> => {
    const volume = await tenant.find<Volume>(checkProject(ctx), volumeKind, id, "volume:get");
    if (volume === undefined) throw notFound(`Volume ${id} could not be found.`);
    return volume;
  };
  const snapshotOr404 = async (ctx: RouteContext): Promise<Snapshot> => {
    const id = ctx.params.id ?? "";
    const snapshot = await tenant.find<Snapshot>(checkProject(ctx), snapshotKind, id, "volume:get_snapshot");
    if (snapshot === undefined) throw notFound(`Snapshot ${id} could not be found.`);
    return snapshot;
  };

  const list = (ctx: RouteContext, key: string, views: JsonObject[], sortable: readonly string[]): Reply => {
    const q = ctx.query;
    let items = filterItems(views, q, ["name", "status", "volume_type", "bootable", "availability_zone", "volume_id", "size"]);
    items = sortItems(items, parseSort(q, sortable, [{ key: "created_at", dir: "desc" }]));
    const page = paginate(items as (JsonObject & { id: string })[], parsePage(q), (m) => badRequest(`marker [${m}] not found`), { linkWhenFull: true });
    return reply(200, {
      [key]: page.items,
      ...(page.nextMarker === undefined ? {} : { [`${key}_links`]: [{ rel: "next", href: nextHref(`${ctx.serviceUrl}${ctx.path}`, q, page.nextMarker) }] }),
    });
  };

  // ---- volumes ----

  const listVolumes = async (ctx: RouteContext, detail: boolean): Promise<Reply> => {
    const caller = checkProject(ctx);
    const allTenants = ["1", "true", "True"].includes(ctx.query.get("all_tenants") ?? "");
    const volumes =
      allTenants && caller.cloudAdmin ? await tenant.listAll<Volume>(caller, volumeKind, "volume:get_all") : await tenant.list<Volume>(caller, volumeKind, "volume:get_all");
    const full = volumes.map((v) => ({ full: showVolume(v, ctx), volume: v }));
    const listed = list(ctx, "volumes", full.map((f) => f.full), ["created_at", "updated_at", "name", "id", "size", "status"]);
    if (detail) return listed;
    // The plain list is the summary of each volume: id, name, links.
    const body = listed.body as JsonObject & { volumes: JsonObject[] };
    body.volumes = body.volumes.map((v) => ({ id: v.id, name: v.name, links: v.links }));
    return listed;
  };

  const createVolume = async (ctx: RouteContext): Promise<Reply> => {
    const caller = checkProject(ctx);
    const project = requireProject(caller);
    const { volume: input } = await ctx.body(volumeCreateSchema);
    for (const unsupported of ["consistencygroup_id", "group_id", "backup_id", "source_replica"] as const) {
      if (input[unsupported] != null) throw badRequest(`Creating a volume with ${unsupported} is not supported.`);
    }
    const type = input.volume_type == null ? undefined : typeByIdOrName(input.volume_type);
    if (input.volume_type != null && type === undefined) {
      throw new ApiError(404, `Volume type with name ${input.volume_type} could not be found.`);
    }
    const zones = availabilityZones(store);
    if (input.availability_zone != null && !zones.includes(input.availability_zone)) {
      throw badRequest(`Availability zone '${input.availability_zone}' is invalid.`);
    }
    let size = input.size ?? undefined;
    const source: NonNullable<Volume["spec"]["source"]> = {};
    if (input.snapshot_id != null) {
      const snapshot = store.byUid<Snapshot>(snapshotKind, input.snapshot_id);
      if (snapshot?.metadata.namespace !== project.namespace) throw notFound(`Snapshot ${input.snapshot_id} could not be found.`);
      source.snapshotRef = snapshot.metadata.name;
      size ??= snapshot.status?.size;
    }
    if (input.source_volid != null) {
      const volume = store.byUid<Volume>(volumeKind, input.source_volid);
      if (volume?.metadata.namespace !== project.namespace) throw notFound(`Volume ${input.source_volid} could not be found.`);
      source.volumeRef = volume.metadata.name;
      size ??= volume.spec.size;
    }
    const imageId = input.imageRef ?? input.image_id;
    if (imageId != null) {
      const imageRef = imageRefById(store, project.namespace, imageId);
      if (imageRef === undefined) throw notFound(`Image ${imageId} could not be found.`);
      source.imageRef = imageRef;
    }
    if (Object.keys(source).length > 1) throw badRequest("Give at most one of snapshot_id, source_volid and imageRef.");
    if (size === undefined) throw badRequest("Volume size must be given (a positive number of GiB).");
    const name = input.name ?? "";
    const created = await tenant.create<Volume>(
      caller,
      volumeKind,
      name,
      (choice, p) => ({
        apiVersion: volumeKind.apiVersion,
        kind: volumeKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace, annotations: { [USER_ID_ANNOTATION]: caller.userId } },
        spec: {
          ...specNameOf(choice),
          size: size ?? 1,
          ...(type === undefined || type.name === defaultType ? {} : { volumeType: type.name }),
          ...(Object.keys(source).length === 0 ? {} : { source }),
          ...(input.description == null ? {} : { description: input.description }),
          ...(input.availability_zone == null ? {} : { availabilityZone: input.availability_zone }),
          ...(input.metadata == null || Object.keys(input.metadata).length === 0 ? {} : { metadata: input.metadata }),
          ...(input.multiattach == null ? {} : { multiattach: input.multiattach }),
        },
      }),
      failed("create", `volume ${name}`),
      { fallback: "volume", maxLength: 50 },
    );
    return reply(202, { volume: showVolume(created, ctx) });
  };

  const deleteVolume = async (ctx: RouteContext): Promise<Reply> => {
    const caller = checkProject(ctx);
    const volume = await volumeOr404(ctx);
    const current = volumeStatusOf(volume);
    if ((volume.status?.attachments ?? []).length > 0 || ATTACHED_STATUSES.has(current)) {
      const shown = ATTACHED_STATUSES.has(current) ? current : "in-use";
      throw badRequest(`Invalid volume: Volume ${volume.metadata.uid ?? ""} status must be available or error, but current status is: ${shown}; detach it from its server first.`);
    }
    const snapshots = store.inNamespace<Snapshot>(snapshotKind, volume.metadata.namespace ?? "").filter((s) => s.spec.volumeRef === volume.metadata.name);
    const cascade = ["true", "1"].includes((ctx.query.get("cascade") ?? "").toLowerCase());
    if (snapshots.length > 0 && !cascade) {
      throw badRequest(`Invalid volume: Volume ${volume.metadata.uid ?? ""} still has ${snapshots.length} dependent snapshots.`);
    }
    for (const snapshot of snapshots) await tenant.delete(caller, snapshotKind, snapshot, failed("delete_snapshot", `snapshot ${snapshot.metadata.uid ?? ""}`));
    await tenant.delete(caller, volumeKind, volume, failed("delete", `volume ${volume.metadata.uid ?? ""}`));
    return reply(202);
  };

  /**
   * `os-volume_upload_image`: a new Image whose data is a copy of the volume (source.volumeRef; the image
   * controller snapshots the volume's PVC and copies it). Answered as Cinder does: 202 with the upload's view.
   */
  const uploadToImage = async (ctx: RouteContext, caller: Caller, volume: Volume, args: unknown): Promise<Reply> => {
    const parsed = uploadToImageSchema.safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw badRequest(`Invalid input for field/attribute os-volume_upload_image.${issue?.path.map(String).join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
    }
    const input = parsed.data;
    const status = volumeStatusOf(volume);
    const force = input.force === true || (typeof input.force === "string" && ["true", "1", "yes", "on"].includes(input.force.toLowerCase()));
    if (!(status === "available" || (status === "in-use" && force))) {
      throw badRequest(`Invalid volume: Volume ${volume.metadata.uid ?? ""} status must be available${force ? " or in-use" : ""}, but current status is: ${status}.`);
    }
    const advanced = atLeast(ctx.version, "3.1");
    const visibility = advanced ? input.visibility : undefined;
    if (visibility === "public" && !caller.cloudAdmin) throw forbidden("Policy doesn't allow volume_extension:volume_actions:upload_public to be performed.");
    const image = await tenant.create<Image>(
      caller,
      imageKind,
      input.image_name,
      (choice, project) => ({
        apiVersion: imageKind.apiVersion,
        kind: imageKind.kind,
        metadata: { name: choice.objectName, namespace: project.namespace },
        spec: {
          ...specNameOf(choice),
          source: { volumeRef: volume.metadata.name ?? "" },
          diskFormat: input.disk_format ?? "raw",
          containerFormat: input.container_format ?? "bare",
          minDisk: volume.status?.size ?? volume.spec.size,
          ...(visibility == null ? {} : { visibility }),
          ...(advanced && input.protected != null ? { protected: input.protected } : {}),
        },
      }),
      { policy: "volume_extension:volume_actions:upload_image", subject: `image ${input.image_name}` },
      { fallback: "image", maxLength: 50 },
    );
    return reply(202, {
      "os-volume_upload_image": {
        id: volume.metadata.uid ?? "",
        updated_at: showVolume(volume, ctx).updated_at,
        status: "uploading",
        display_description: volume.spec.description ?? null,
        size: volume.status?.size ?? volume.spec.size,
        volume_type: config.volumeTypes.length === 0 ? null : volumeTypeView(typeByIdOrName(volume.spec.volumeType ?? defaultType) ?? { name: defaultType }),
        image_id: image.metadata.uid ?? "",
        container_format: image.spec.containerFormat ?? "bare",
        disk_format: image.spec.diskFormat ?? "raw",
        image_name: input.image_name,
        ...(advanced ? { visibility: image.spec.visibility ?? "shared", protected: image.spec.protected === true } : {}),
      },
    });
  };

  const volumeAction = async (ctx: RouteContext): Promise<Reply> => {
    const caller = checkProject(ctx);
    const volume = await volumeOr404(ctx);
    const body = await ctx.json();
    if (typeof body !== "object" || body === null || Array.isArray(body) || Object.keys(body).length !== 1) {
      throw badRequest("Exactly one volume action is expected.");
    }
    const [action] = Object.keys(body) as [string];
    const args = (body as Record<string, unknown>)[action];
    const subject = `volume ${volume.metadata.uid ?? ""}`;
    if (action in UNSUPPORTED_ACTIONS) throw notImplemented(UNSUPPORTED_ACTIONS[action] ?? "");
    switch (action) {
      case "os-extend": {
        const parsed = z.object({ new_size: intLike.pipe(z.int().min(1)) }).safeParse(args);
        if (!parsed.success) throw badRequest("Invalid input for field/attribute os-extend.new_size: a positive integer is required.");
        const current = volume.status?.size ?? volume.spec.size;
        if (parsed.data.new_size <= current) throw badRequest(`New size for extend must be greater than current size. (current: ${current}, extended: ${parsed.data.new_size}).`);
        const status = volumeStatusOf(volume);
        if (status !== "available" && !(status === "in-use" && atLeast(ctx.version, "3.42"))) {
          throw badRequest(`Invalid volume: Volume should be in available status for extend, but current status is ${status}.`);
        }
        await tenant.patch(caller, volumeKind, volume, { spec: { size: parsed.data.new_size } }, failed("extend", subject));
        return reply(202);
      }
      case "os-set_bootable": {
        const parsed = z
          .object({ bootable: z.union([z.boolean(), z.string().transform((s) => ["true", "1", "yes", "on"].includes(s.toLowerCase()))]) })
          .safeParse(args);
        if (!parsed.success) throw badRequest("Invalid input for field/attribute os-set_bootable.bootable: a boolean is required.");
        await tenant.patch(caller, volumeKind, volume, { spec: { bootable: parsed.data.bootable } }, failed("update", subject));
        return reply(200);
      }
      case "os-volume_upload_image":
        return uploadToImage(ctx, caller, volume, args);
      default:
        throw badRequest(`There is no such action: ${action}`);
    }
  };

  // ---- quotas and limits ----

  const usageOf = (namespace: string) => {
    const volumes = store.inNamespace<Volume>(volumeKind, namespace).filter((v) => v.metadata.deletionTimestamp === undefined);
    const snapshots = store.inNamespace<Snapshot>(snapshotKind, namespace).filter((s) => s.metadata.deletionTimestamp === undefined);
    const gigabytes = volumes.reduce((n, v) => n + (v.status?.size ?? v.spec.size), 0) + snapshots.reduce((n, s) => n + (s.status?.size ?? 0), 0);
    return { volumes: volumes.length, snapshots: snapshots.length, gigabytes };
  };
  const quotasOf = (project: Project) => {
    const q = project.status?.quotas ?? effectiveQuotas(project);
    return { volumes: q.volumes ?? -1, snapshots: q.snapshots ?? -1, gigabytes: q.gigabytes ?? -1 };
  };
  const quotaSet = (project: Project, withUsage: boolean) => {
    const limits: Record<string, number> = {
      ...quotasOf(project),
      backups: 0,
      backup_gigabytes: 0,
      groups: 0,
      per_volume_gigabytes: -1,
    };
    for (const type of config.volumeTypes) {
      limits[`volumes_${type.name}`] = -1;
      limits[`gigabytes_${type.name}`] = -1;
      limits[`snapshots_${type.name}`] = -1;
    }
    const used: Record<string, number> = usageOf(project.status?.namespace ?? `project-${project.metadata.name ?? ""}`);
    const set: Record<string, unknown> = { id: project.metadata.uid ?? "" };
    for (const [key, limit] of Object.entries(limits)) {
      set[key] = withUsage ? { limit, in_use: used[key] ?? 0, reserved: 0, allocated: 0 } : limit;
    }
    return { quota_set: set };
  };
  const projectForQuota = async (ctx: RouteContext): Promise<Project> => {
    const caller = ctx.caller();
    const id = ctx.params.target ?? "";
    const project = identity.projectById(id);
    if (project === undefined) throw notFound(`Project ${id} could not be found.`);
    if (caller.project?.id !== id && !caller.cloudAdmin) throw forbidden("Policy doesn't allow volume_extension:quotas:show to be performed.");
    await requireAccess(caller, { verb: "get", resource: projectKind, name: project.metadata.name }, "volume_extension:quotas:show");
    return project;
  };

  const versionDoc = (ctx: RouteContext) => ({
    id: "v3.0",
    status: "CURRENT",
    version: `${CINDER_MAX_VERSION.major}.${CINDER_MAX_VERSION.minor}`,
    min_version: `${CINDER_MIN_VERSION.major}.${CINDER_MIN_VERSION.minor}`,
    updated: "2023-08-31T00:00:00Z",
    links: [
      { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" },
      { rel: "self", href: `${ctx.serviceUrl}/v3/` },
    ],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.volume+json;version=3" }],
  });

  // Every resource route exists with the project id in the URL and, from 3.67, without it.
  const scoped = (method: Route["method"], path: string, handler: Handler): Route[] => [
    { method, path: `/v3/{project_id}${path}`, handler },
    { method, path: `/v3${path}`, handler },
  ];

  const routes: Route[] = [
    { method: "GET", path: "/", public: true, handler: (ctx) => Promise.resolve(reply(300, { versions: [versionDoc(ctx)] })) },
    { method: "GET", path: "/v3", public: true, handler: (ctx) => Promise.resolve(reply(200, { versions: [versionDoc(ctx)] })) },
    ...scoped("GET", "/volumes", (ctx) => listVolumes(ctx, false)),
    ...scoped("GET", "/volumes/detail", (ctx) => listVolumes(ctx, true)),
    ...scoped("POST", "/volumes", createVolume),
    ...scoped("GET", "/volumes/{id}", async (ctx) => reply(200, { volume: showVolume(await volumeOr404(ctx), ctx) })),
    ...scoped("PUT", "/volumes/{id}", async (ctx) => {
      const caller = checkProject(ctx);
      const volume = await volumeOr404(ctx);
      const { volume: input } = await ctx.body(volumeUpdateSchema);
      const spec: Record<string, unknown> = {};
      if (input.name != null) spec.name = input.name === volume.metadata.name ? null : input.name;
      if (input.description !== undefined) spec.description = input.description;
      if (input.metadata != null) {
        const removed = Object.fromEntries(Object.keys(volume.spec.metadata ?? {}).filter((k) => !(k in (input.metadata ?? {}))).map((k) => [k, null]));
        spec.metadata = { ...removed, ...input.metadata };
      }
      const updated = Object.keys(spec).length === 0 ? volume : await tenant.patch<Volume>(caller, volumeKind, volume, { spec }, failed("update", `volume ${volume.metadata.uid ?? ""}`));
      return reply(200, { volume: showVolume(updated, ctx) });
    }),
    ...scoped("DELETE", "/volumes/{id}", deleteVolume),
    ...scoped("POST", "/volumes/{id}/action", volumeAction),
    ...scoped("GET", "/volumes/{id}/metadata", async (ctx) => reply(200, { metadata: { ...(await volumeOr404(ctx)).spec.metadata } })),
    ...scoped("POST", "/volumes/{id}/metadata", async (ctx) => {
      const caller = checkProject(ctx);
      const volume = await volumeOr404(ctx);
      const { metadata: input } = await ctx.body(z.object({ metadata }));
      const updated = await tenant.patch<Volume>(caller, volumeKind, volume, { spec: { metadata: input } }, failed("update_volume_metadata", `volume ${volume.metadata.uid ?? ""}`));
      return reply(200, { metadata: { ...updated.spec.metadata } });
    }),
    ...scoped("DELETE", "/volumes/{id}/metadata/{key}", async (ctx) => {
      const caller = checkProject(ctx);
      const volume = await volumeOr404(ctx);
      if (volume.spec.metadata?.[ctx.params.key ?? ""] === undefined) throw notFound(`Metadata item ${ctx.params.key ?? ""} was not found.`);
      await tenant.patch(caller, volumeKind, volume, { spec: { metadata: { [ctx.params.key ?? ""]: null } } }, failed("delete_volume_metadata", `volume ${volume.metadata.uid ?? ""}`));
      return reply(200);
    }),
    ...scoped("GET", "/snapshots", async (ctx) => {
      const snapshots = await tenant.list<Snapshot>(checkProject(ctx), snapshotKind, "volume:get_all_snapshots");
      const r = list(ctx, "snapshots", snapshots.map((s) => showSnapshot(s, ctx)), ["created_at", "updated_at", "name", "id", "size", "status"]);
      return r;
    }),
    ...scoped("GET", "/snapshots/detail", async (ctx) => {
      const snapshots = await tenant.list<Snapshot>(checkProject(ctx), snapshotKind, "volume:get_all_snapshots");
      return list(ctx, "snapshots", snapshots.map((s) => showSnapshot(s, ctx)), ["created_at", "updated_at", "name", "id", "size", "status"]);
    }),
    ...scoped("POST", "/snapshots", async (ctx) => {
      const caller = checkProject(ctx);
      const { snapshot: input } = await ctx.body(snapshotCreateSchema);
      const volume = await volumeOr404(ctx, input.volume_id);
      const status = volumeStatusOf(volume);
      // Cinder refuses (rather than queues) a snapshot of a volume that is reserved, attaching, detaching, …
      const refusal = snapshotCreateRefusal(volume.metadata.uid ?? "", status, input.force === true || atLeast(ctx.version, "3.66"));
      if (refusal !== undefined) throw badRequest(refusal);
      const name = input.name ?? "";
      const created = await tenant.create<Snapshot>(
        caller,
        snapshotKind,
        name,
        (choice, p) => ({
          apiVersion: snapshotKind.apiVersion,
          kind: snapshotKind.kind,
          metadata: { name: choice.objectName, namespace: p.namespace, annotations: { [USER_ID_ANNOTATION]: caller.userId } },
          spec: {
            ...specNameOf(choice),
            volumeRef: volume.metadata.name ?? "",
            ...(input.force === true || status === "in-use" ? { force: true } : {}),
            ...(input.description == null ? {} : { description: input.description }),
            ...(input.metadata == null || Object.keys(input.metadata).length === 0 ? {} : { metadata: input.metadata }),
          },
        }),
        failed("create_snapshot", `snapshot of volume ${input.volume_id}`),
        { fallback: "snapshot", maxLength: 50 },
      );
      return reply(202, { snapshot: showSnapshot(created, ctx) });
    }),
    ...scoped("GET", "/snapshots/{id}", async (ctx) => reply(200, { snapshot: showSnapshot(await snapshotOr404(ctx), ctx) })),
    ...scoped("PUT", "/snapshots/{id}", async (ctx) => {
      const caller = checkProject(ctx);
      const snapshot = await snapshotOr404(ctx);
      const { snapshot: input } = await ctx.body(snapshotUpdateSchema);
      const spec: Record<string, unknown> = {};
      if (input.name != null) spec.name = input.name === snapshot.metadata.name ? null : input.name;
      if (input.description !== undefined) spec.description = input.description;
      const updated = Object.keys(spec).length === 0 ? snapshot : await tenant.patch<Snapshot>(caller, snapshotKind, snapshot, { spec }, failed("update_snapshot", `snapshot ${snapshot.metadata.uid ?? ""}`));
      return reply(200, { snapshot: showSnapshot(updated, ctx) });
    }),
    ...scoped("DELETE", "/snapshots/{id}", async (ctx) => {
      const caller = checkProject(ctx);
      const snapshot = await snapshotOr404(ctx);
      await tenant.delete(caller, snapshotKind, snapshot, failed("delete_snapshot", `snapshot ${snapshot.metadata.uid ?? ""}`));
      return reply(202);
    }),
    ...scoped("GET", "/types", (ctx) => {
      checkProject(ctx);
      return Promise.resolve(reply(200, { volume_types: config.volumeTypes.map(volumeTypeView) }));
    }),
    ...scoped("GET", "/types/default", (ctx) => {
      checkProject(ctx);
      const type = config.volumeTypes[0];
      if (type === undefined) throw notFound("Default volume type can not be found.");
      return Promise.resolve(reply(200, { volume_type: volumeTypeView(type) }));
    }),
    ...scoped("GET", "/types/{id}", (ctx) => {
      checkProject(ctx);
      const type = typeByIdOrName(ctx.params.id ?? "");
      if (type === undefined) throw notFound(`Volume type ${ctx.params.id ?? ""} could not be found.`);
      return Promise.resolve(reply(200, { volume_type: volumeTypeView(type) }));
    }),
    ...scoped("GET", "/types/{id}/extra_specs", (ctx) => {
      checkProject(ctx);
      const type = typeByIdOrName(ctx.params.id ?? "");
      if (type === undefined) throw notFound(`Volume type ${ctx.params.id ?? ""} could not be found.`);
      return Promise.resolve(reply(200, { extra_specs: volumeTypeView(type).extra_specs }));
    }),
    ...scoped("GET", "/limits", (ctx) => {
      const project = requireProject(checkProject(ctx));
      const object = identity.projectByObjectName(project.objectName);
      if (object === undefined) throw notFound(`Project ${project.id} could not be found.`);
      const quotas = quotasOf(object);
      const used = usageOf(project.namespace);
      return Promise.resolve(
        reply(200, {
          limits: {
            rate: [],
            absolute: {
              maxTotalVolumes: quotas.volumes,
              maxTotalSnapshots: quotas.snapshots,
              maxTotalVolumeGigabytes: quotas.gigabytes,
              maxTotalBackups: 0,
              maxTotalBackupGigabytes: 0,
              totalVolumesUsed: used.volumes,
              totalSnapshotsUsed: used.snapshots,
              totalGigabytesUsed: used.gigabytes,
              totalBackupsUsed: 0,
              totalBackupGigabytesUsed: 0,
            },
          },
        }),
      );
    }),
    ...scoped("GET", "/os-quota-sets/{target}", async (ctx) => {
      const usage = ["true", "1"].includes((ctx.query.get("usage") ?? "").toLowerCase());
      return reply(200, quotaSet(await projectForQuota(ctx), usage));
    }),
    ...scoped("GET", "/os-quota-sets/{target}/defaults", async (ctx) => {
      const project = await projectForQuota(ctx);
      return reply(200, quotaSet({ ...project, spec: {}, status: undefined }, false));
    }),
    ...scoped("PUT", "/os-quota-sets/{target}", async (ctx) => {
      const caller = ctx.caller();
      const project = identity.projectById(ctx.params.target ?? "");
      if (project === undefined) throw notFound(`Project ${ctx.params.target ?? ""} could not be found.`);
      const { quota_set: input } = await ctx.body(quotaUpdateSchema);
      const quotas = namedQuotas({ volumes: input.volumes, gigabytes: input.gigabytes, snapshots: input.snapshots });
      let updated: Project;
      try {
        updated = await writeProjectQuotas(caller, store, project, quotas);
      } catch (e) {
        throw fromKubeError(e, "cinder", failed("quotas:update", `quotas of project ${openstackName(project)}`));
      }
      const { id: _id, ...set } = quotaSet({ ...updated, status: undefined }, false).quota_set;
      return reply(200, { quota_set: set });
    }),
    ...scoped("GET", "/os-availability-zone", (ctx) => {
      checkProject(ctx);
      return Promise.resolve(reply(200, { availabilityZoneInfo: availabilityZones(store).map((zoneName) => ({ zoneName, zoneState: { available: true } })) }));
    }),
    ...scoped("GET", "/extensions", (ctx) => {
      ctx.caller();
      return Promise.resolve(reply(200, { extensions: [] }));
    }),
  ];

  return {
    type: "block-storage",
    prefix: SERVICE_PREFIXES.volume,
    faultStyle: "cinder",
    routes,
    microversions: { serviceType: "volume", min: CINDER_MIN_VERSION, max: CINDER_MAX_VERSION },
    unversionedPaths: ["/", "/v3"],
  };
}
