// Glance v2: images (→ Image objects) with Glance's visibility rules, JSON-patch updates, tags, members,
// schemas and import-method discovery. Image data: `PUT …/file` streams into CDI (./upload.ts); `GET …/file`
// answers 204 while an image has no data and streams it out of a KubeVirt VirtualMachineExport once it has
// (./download.ts); the interoperable import (`/stage`, `/import`) is not offered.
import { z } from "zod";
import {
  CONTAINER_FORMATS,
  DISK_FORMATS,
  IMAGE_VISIBILITIES,
  ImageUploadAnnotation,
  imageKind,
  projectOfNamespace,
  type Image,
} from "../../api/index.js";
import { Builtin, Upstream, isConflict, isNotFound, keyOf } from "../../kube/index.js";
import { UPLOAD_IDLE_MS, uploadRecordAnnotations, uploadStreamingFor } from "../../reconcilers/image/upload-record.js";
import { imageUsableFrom, visibilityOf } from "../../reconcilers/image/visibility.js";
import { requireProject, type Caller } from "../common/caller.js";
import type { ServiceDeps } from "../common/deps.js";
import { ApiError, badRequest, conflict, forbidden, notFound, notImplemented } from "../common/errors.js";
import { fromKubeError } from "../common/kube-errors.js";
import { parseJsonBody, readBody, MAX_JSON_BODY_BYTES, reply, type Reply, type Route, type RouteContext, type Service } from "../common/http.js";
import { paginate, parsePage, parseSort, sortItems, type JsonObject } from "../common/listing.js";
import { FACADE_MANAGER, TenantAccess } from "../common/tenant.js";
import { SERVICE_PREFIXES } from "../keystone/catalog.js";
import {
  awaitExportReady,
  downloadLength,
  exportFault,
  exportLinkOf,
  exportNotReadyReason,
  exportTokenSecret,
  imageBytes,
  imageExport,
  newExportSuffix,
  newExportToken,
  openExport,
  refusalText,
  type ExportObject,
} from "./download.js";
import { imageTooLarge, proxyFault, requestUploadToken, streamToUploadProxy, UploadDigest, uploadProxyTarget, type UploadProxyTarget } from "./upload.js";
import { CORE_IMAGE_ATTRIBUTES, imageSchema, imageStatusOf, imageView, memberSchema, memberView } from "./views.js";
import { specNameOf } from "../common/names.js";

const GLANCE_VERSIONS = ["2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"];
const PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch";
const UNSUPPORTED_IMPORT =
  "The interoperable image import (stage/import) is not available on this cloud: upload the data with PUT /v2/images/{id}/file " +
  "(openstack image create --file), or create an Image object with spec.source.http.url (kubectl), which the image controller imports.";
/** How long a download waits for KubeVirt to make the image's export Ready. */
const EXPORT_READY_MS = 60_000;
/** How often an upload in flight renews its streaming mark (well within UPLOAD_IDLE_MS, after which it is stale). */
const STREAMING_MARK_RENEW_MS = UPLOAD_IDLE_MS / 4;
/** How long a finished upload waits for the image to show active (with its checksums) before answering anyway. */
const ACTIVE_AFTER_UPLOAD_MS = 60_000;

const imageCreateSchema = z.looseObject({
  name: z.string().max(255).nullish(),
  id: z.string().nullish(),
  visibility: z.enum(IMAGE_VISIBILITIES).nullish(),
  disk_format: z.enum(DISK_FORMATS).nullish(),
  container_format: z.enum(CONTAINER_FORMATS).nullish(),
  min_disk: z.int().min(0).nullish(),
  min_ram: z.int().min(0).nullish(),
  protected: z.boolean().nullish(),
  os_hidden: z.boolean().nullish(),
  tags: z.array(z.string().min(1).max(255)).max(64).nullish(),
});

const jsonPatchSchema = z.array(
  z.object({
    op: z.enum(["add", "replace", "remove"]),
    path: z.string().regex(/^\/[^/]+(\/[^/]+)?$/),
    value: z.unknown().optional(),
  }),
);

export function glanceService(deps: ServiceDeps): Service {
  const { store, identity } = deps;
  const tenant = new TenantAccess(store, "glance");
  const failed = (action: string, subject: string) => ({ policy: action, subject });

  const projectIdOf = (namespace: string | undefined): string => {
    const name = projectOfNamespace(namespace);
    return name === undefined ? "" : (identity.projectByObjectName(name)?.metadata.uid ?? "");
  };
  const show = (image: Image) => imageView(image, projectIdOf(image.metadata.namespace));

  /** Images the caller may see by id: its own, public and community ones, and shared ones it is a member of. */
  const imageOr404 = (caller: Caller, id: string): Image => {
    const project = requireProject(caller);
    const image = store.byUid<Image>(imageKind, id);
    if (image === undefined || !(caller.cloudAdmin || imageUsableFrom(image, project.namespace) || memberStatus(image, project.objectName) !== undefined)) {
      throw notFound(`No image found with ID ${id}`);
    }
    return image;
  };
  const memberStatus = (image: Image, projectName: string): string | undefined => {
    const member = (image.spec.members ?? []).find((m) => m.project === projectName);
    return member === undefined ? undefined : (member.status ?? "accepted");
  };
  const ownedOr403 = (caller: Caller, image: Image, what: string): void => {
    if (image.metadata.namespace !== requireProject(caller).namespace && !caller.cloudAdmin) {
      throw forbidden(`You are not permitted to ${what} this image.`);
    }
  };

  /** Resolves with the image once `ready` holds for it in the cache, or undefined when it is gone or time is up. */
  const awaitImage = (image: Image, ready: (current: Image) => boolean, timeoutMs: number): Promise<Image | undefined> => {
    const cache = store.cache<Image>(imageKind);
    const key = keyOf(image);
    return new Promise((resolve) => {
      const offs: (() => void)[] = [];
      const finish = (result: Image | undefined): void => {
        clearTimeout(timer);
        for (const off of offs) off();
        resolve(result);
      };
      const check = (): void => {
        const current = cache.get(key);
        if (current === undefined || current.metadata.uid !== image.metadata.uid || current.metadata.deletionTimestamp !== undefined) finish(undefined);
        else if (ready(current)) finish(current);
      };
      const timer = setTimeout(() => {
        finish(undefined);
      }, timeoutMs);
      offs.push(cache.onUpdate(check), cache.onDelete(check));
      check();
    });
  };

  /** Glance's answer to an upload while another is in flight (InvalidImageStatusTransition). */
  const uploadInFlight = (): ApiError => conflict("Image status transition from saving to saving is not allowed");

  /**
   * Marks the image as taking an upload (Glance's `saving`), as the caller. The write is guarded by the
   * resourceVersion it was decided on, so of two concurrent uploads exactly one gets the mark; the other is
   * refused as Glance refuses a second upload of a saving image.
   */
  const markStreaming = async (caller: Caller, image: Image, id: string): Promise<void> => {
    const name = image.metadata.name ?? "";
    const namespace = image.metadata.namespace;
    let current: Image | undefined = image;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (current === undefined || current.metadata.deletionTimestamp !== undefined) throw notFound(`No image found with ID ${id}`);
      if (uploadStreamingFor(current.metadata.annotations, new Date()) > 0) throw uploadInFlight();
      const annotations = { [ImageUploadAnnotation.streaming]: new Date().toISOString() };
      const patch = { metadata: { resourceVersion: current.metadata.resourceVersion, annotations } };
      try {
        await store.write(imageKind, () => caller.kube.patch<Image>(imageKind, name, namespace, patch, "merge", { fieldManager: FACADE_MANAGER }));
        return;
      } catch (e) {
        // Someone wrote in between (the controller, or another upload taking the mark): decide again on a fresh read.
        if (!isConflict(e)) throw fromKubeError(e, "glance", failed("upload_image", `image ${id}`));
        current = await caller.kube.get<Image>(imageKind, name, namespace);
      }
    }
    throw uploadInFlight();
  };

  /** Renews (`at`) or removes (null) the streaming mark of an upload this request holds; a failure is only logged. */
  const setStreamingMark = async (caller: Caller, image: Image, at: string | null, log: RouteContext["log"]): Promise<void> => {
    const patch = { metadata: { annotations: { [ImageUploadAnnotation.streaming]: at } } };
    try {
      await caller.kube.patch(imageKind, image.metadata.name ?? "", image.metadata.namespace, patch, "merge", { fieldManager: FACADE_MANAGER });
    } catch (e) {
      if (!isNotFound(e)) log.warn({ err: e, image: image.metadata.uid }, "could not update the image's upload mark (a stale one is ignored after the idle timeout)");
    }
  };

  /**
   * `PUT /v2/images/{id}/file`: the bytes go, as they arrive, into the image's CDI upload volume as the caller;
   * size, md5 and sha512 are computed on the way and recorded on the Image. 204 once the image is active. A
   * broken or refused upload leaves the image queued (Glance reverts a failed upload to queued), ready for a retry.
   */
  const uploadImageData = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const image = imageOr404(caller, ctx.params.id ?? "");
    ownedOr403(caller, image, "upload data to");
    const id = image.metadata.uid ?? "";
    const type = (ctx.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
    if (type !== "application/octet-stream") {
      throw new ApiError(415, `Unsupported Content-Type '${type}': image data is sent as application/octet-stream.`);
    }
    const status = imageStatusOf(image);
    if (status !== "queued") throw conflict(`Image status transition from ${status} to saving is not allowed`);
    if (uploadStreamingFor(image.metadata.annotations, new Date()) > 0) throw uploadInFlight();
    if (image.spec.source.upload === undefined) throw conflict(`Image ${id} takes its data from ${Object.keys(image.spec.source).join("")}, not from an upload.`);
    const proxyUrl = deps.config.cdiUploadProxyUrl;
    if (proxyUrl === undefined) {
      throw notImplemented("Image data upload is not configured on this cloud (the image API has no --cdi-upload-proxy-url). Create the image from a URL instead.");
    }
    const cap = deps.config.imageSizeCapBytes;
    const declared = ctx.headers["content-length"] === undefined ? undefined : Number(ctx.headers["content-length"]);
    if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) throw badRequest("Invalid Content-Length.");
    if (declared !== undefined && declared > cap) throw imageTooLarge(cap);

    // CDI takes data only once the upload volume is bound and its upload server runs: the controller says so.
    const waitMs = deps.config.uploadReadyTimeoutSeconds * 1000;
    ctx.log.debug({ image: id }, "upload waits for the image's volume");
    const ready = await awaitImage(image, (i) => i.status?.uploadClaim !== undefined || imageStatusOf(i) !== "queued", waitMs);
    if (ready === undefined) {
      throw new ApiError(503, `The volume of image ${id} is not ready to take data after ${deps.config.uploadReadyTimeoutSeconds} s (it is still being prepared, or the image is gone). Retry the upload.`);
    }
    const claim = ready.status?.uploadClaim;
    if (claim === undefined) throw conflict(`Image status transition from ${imageStatusOf(ready)} to saving is not allowed`);
    const target = await uploadProxyTarget(proxyUrl, deps.config.cdiUploadProxyCaFile).catch((e: unknown) => {
      ctx.log.error({ err: e, caFile: deps.config.cdiUploadProxyCaFile }, "cannot read the CDI upload proxy's CA file");
      throw new ApiError(503, "The image store cannot be reached right now (its CA certificate is unreadable; the cloud's log says more). Retry later.");
    });
    const namespace = image.metadata.namespace ?? "";
    let token: string;
    try {
      token = await requestUploadToken(caller.kube, namespace, claim, `${image.metadata.name ?? "image"}-upload`);
    } catch (e) {
      if (isNotFound(e)) throw new ApiError(503, "CDI's upload API (upload.cdi.kubevirt.io) is not available on this cluster: image data cannot be uploaded.");
      throw fromKubeError(e, "glance", failed("upload_image", `image ${id}`));
    }

    ctx.log.debug({ image: id, claim }, "upload token issued; streaming");
    await markStreaming(caller, image, id);
    // The mark stays fresh while the upload lasts and goes when it ends, however it ends (a failed upload is
    // queued again, as in Glance; a finished one is past UploadReady, where the mark means nothing).
    let renewing: Promise<void> = Promise.resolve();
    const renew = setInterval(() => {
      renewing = renewing.then(() => setStreamingMark(caller, image, new Date().toISOString(), ctx.log));
    }, STREAMING_MARK_RENEW_MS);
    try {
      return await streamUpload(ctx, image, { id, cap, declared, target, token });
    } finally {
      clearInterval(renew);
      // After any renewal in flight, or that renewal would put the mark back.
      await renewing;
      await setStreamingMark(caller, image, null, ctx.log);
    }
  };

  const streamUpload = async (
    ctx: RouteContext,
    image: Image,
    { id, cap, declared, target, token }: { id: string; cap: number; declared: number | undefined; target: UploadProxyTarget; token: string },
  ): Promise<Reply> => {
    const caller = ctx.caller();
    const digest = new UploadDigest(cap, async (record) => {
      // Recorded before the last byte reaches CDI, so the controller has it when the data is in place.
      await tenant.patch(caller, imageKind, image, { metadata: { annotations: uploadRecordAnnotations(record) } }, failed("upload_image", `image ${id}`));
    });
    if (ctx.request.destroyed) {
      throw new ApiError(400, `The client closed the connection before the data of image ${id} could be stored; the image stays queued.`);
    }
    // pipe(), not pipeline(): a proxy that refuses must not tear down the client's connection before the fault
    // is sent; a broken client stream still fails the transfer.
    const failTransfer = (e: unknown): void => {
      digest.destroy(e instanceof Error ? e : new Error(String(e)));
    };
    ctx.request.once("error", failTransfer);
    ctx.request.once("aborted", () => {
      failTransfer(new Error("the client closed the connection"));
    });
    // A client that stops sending must not hold the image's volume (busy for retries) forever.
    ctx.request.setTimeout(UPLOAD_IDLE_MS, () => {
      failTransfer(new Error(`no data arrived for ${UPLOAD_IDLE_MS / 1000} s`));
    });
    ctx.request.pipe(digest);
    let answer: { status: number; text: string };
    try {
      answer = await streamToUploadProxy(target, token, digest, declared);
    } catch (e) {
      ctx.log.warn({ image: id, bytes: digest.size, err: e }, "image upload did not complete; the image stays queued");
      ctx.request.unpipe(digest);
      if (!ctx.request.destroyed) ctx.request.resume();
      if (e instanceof ApiError) throw e;
      throw new ApiError(ctx.request.destroyed ? 400 : 503, `The upload of image ${id} was interrupted after ${digest.size} bytes: ${e instanceof Error ? e.message : String(e)}. The image stays queued; retry the upload.`);
    }
    if (answer.status < 200 || answer.status >= 300) {
      ctx.request.unpipe(digest);
      ctx.request.resume(); // the rest of the body is not wanted: drained so the client reads the fault
      ctx.log.warn({ image: id, status: answer.status, text: answer.text.slice(0, 200) }, "the upload proxy refused the image data");
      throw proxyFault(answer.status, answer.text, id);
    }
    const active = await awaitImage(image, (i) => imageStatusOf(i) === "active" && i.status?.checksum !== undefined, ACTIVE_AFTER_UPLOAD_MS);
    ctx.log.info({ image: id, bytes: digest.size, active: active !== undefined }, "image data uploaded");
    return reply(204);
  };

  /**
   * `GET /v2/images/{id}/file`: 204 while the image has no data (as Glance); otherwise the image's volume is
   * exported as the caller (VirtualMachineExport + token Secret in the image's project) and its bytes streamed
   * to the client with Content-MD5 = the image's checksum. The export goes when the stream ends.
   */
  const downloadImageData = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const image = imageOr404(caller, ctx.params.id ?? "");
    const id = image.metadata.uid ?? "";
    if (imageStatusOf(image) !== "active") return reply(204);
    const project = requireProject(caller);
    if (image.metadata.namespace !== project.namespace) {
      // Exports are made as the caller, and a project may not export another project's volumes.
      throw forbidden(`Image ${id} belongs to another project: this cloud streams image data to members of the owning project only. Ask its owner for a copy.`);
    }
    const claimName = image.status?.dataVolume;
    if (claimName === undefined) throw new ApiError(404, `Image ${id} has no data in the image store.`);
    const namespace = image.metadata.namespace;
    const desired = imageExport({ imageName: image.metadata.name ?? "image", namespace, claimName, suffix: newExportSuffix() });
    const what = failed("download_image", `image ${id}`);
    let created: ExportObject;
    try {
      created = await caller.kube.create<ExportObject>(Upstream.VirtualMachineExport, desired);
    } catch (e) {
      if (isNotFound(e)) throw new ApiError(503, "KubeVirt's export API (export.kubevirt.io VirtualMachineExport) is not available on this cluster: image data cannot be downloaded.");
      throw fromKubeError(e, "glance", what);
    }
    const log = ctx.log.child({ image: id, export: created.metadata.name });
    let handedOver = false;
    const removeExport = (): void => {
      caller.kube.delete(Upstream.VirtualMachineExport, created.metadata.name ?? "", namespace).catch((e: unknown) => {
        if (!isNotFound(e)) log.warn({ err: e }, "could not delete the image's export (KubeVirt removes it after its TTL)");
      });
    };
    try {
      const token = newExportToken();
      await caller.kube.create(Builtin.Secret, exportTokenSecret(created, token)).catch((e: unknown) => {
        throw fromKubeError(e, "glance", what);
      });
      const ready = await awaitExportReady(caller.kube, created, EXPORT_READY_MS);
      if (ready === undefined) {
        const current = await caller.kube.get<ExportObject>(Upstream.VirtualMachineExport, created.metadata.name ?? "", namespace).catch(() => undefined);
        throw new ApiError(503, `The data of image ${id} could not be made available for download within ${EXPORT_READY_MS / 1000} s (export ${exportNotReadyReason(current?.status)}). Retry the download.`);
      }
      const link = exportLinkOf(ready.status, claimName);
      if (link === undefined) throw new ApiError(503, `The image store offers the data of image ${id} in no format this cloud can stream (raw or gzip).`);
      const response = await openExport(link, token).catch((e: unknown) => {
        throw new ApiError(503, `The image store cannot be reached to read image ${id}: ${e instanceof Error ? e.message : String(e)}. Retry the download.`);
      });
      if (response.statusCode !== 200) throw exportFault(response.statusCode ?? 0, await refusalText(response), id);
      const size = image.status?.size;
      const length = downloadLength(size, response, link.gzip);
      const body = imageBytes(response, link.gzip, size === undefined ? undefined : length);
      body.once("close", removeExport);
      handedOver = true;
      const headers: Record<string, string> = {};
      if (length !== undefined) headers["Content-Length"] = String(length);
      if (image.status?.checksum !== undefined) headers["Content-MD5"] = image.status.checksum;
      log.info({ bytes: length, gzip: link.gzip }, "streaming image data from its export");
      return { status: 200, headers, stream: body, contentType: "application/octet-stream" };
    } finally {
      if (!handedOver) removeExport();
    }
  };

  const listImages = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const project = requireProject(caller);
    const q = ctx.query;
    const own = await tenant.list<Image>(caller, imageKind, "get_images");
    const visibility = q.get("visibility");
    const memberFilter = q.get("member_status") ?? "accepted";
    const others = store.all<Image>(imageKind).filter((i) => {
      if (i.metadata.namespace === project.namespace) return false;
      // Glance lists every image to an admin (only regular users get the visibility rules): that is how
      // `openstack server list --all-projects` names the images of other projects' servers.
      if (caller.cloudAdmin) return true;
      const v = visibilityOf(i);
      if (v === "public") return true;
      if (v === "community") return visibility === "community";
      if (v === "shared") {
        const status = memberStatus(i, project.objectName);
        return status !== undefined && (memberFilter === "all" || status === memberFilter);
      }
      return false;
    });
    let images = [...own, ...others].filter((i) => i.metadata.deletionTimestamp === undefined);
    if (visibility !== null && visibility !== "all") images = images.filter((i) => visibilityOf(i) === visibility);
    const hidden = q.get("os_hidden");
    let views: JsonObject[] = images.map(show);
    views = views.filter((v) => (hidden === null ? v.os_hidden !== true : String(v.os_hidden) === hidden.toLowerCase()));
    for (const key of ["name", "status", "owner", "disk_format", "container_format", "id", "protected"]) {
      const wanted = q.get(key);
      if (wanted !== null) {
        // Glance's `in:` operator: any of a comma-separated list.
        const values = wanted.startsWith("in:") ? wanted.slice(3).split(",") : [wanted];
        views = views.filter((v) => values.includes(String(v[key])));
      }
    }
    for (const tag of q.getAll("tag")) views = views.filter((v) => (v.tags as string[]).includes(tag));
    views = sortItems(views, parseSort(q, ["name", "status", "created_at", "updated_at", "size", "id", "disk_format", "container_format", "visibility", "min_disk", "min_ram"], [{ key: "created_at", dir: "desc" }]));
    const page = paginate(views as (JsonObject & { id: string })[], parsePage(q), (m) => badRequest(`Invalid marker. Image ${m} could not be found.`), { linkWhenFull: true });
    const body: JsonObject = { images: page.items, schema: "/v2/schemas/images", first: `/v2/images${q.toString() === "" ? "" : `?${q.toString()}`}` };
    if (page.nextMarker !== undefined) {
      const next = new URLSearchParams(q);
      next.set("marker", page.nextMarker);
      body.next = `/v2/images?${next.toString()}`;
    }
    return reply(200, body);
  };

  const createImage = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const input = await ctx.body(imageCreateSchema);
    if (input.id != null) throw badRequest("Setting an image id is not supported: ids are assigned by the cloud.");
    if (input.visibility === "public" && !caller.cloudAdmin) {
      throw forbidden("You are not authorized to complete publicize_image action.");
    }
    const properties: Record<string, string> = {};
    for (const [key, value] of Object.entries(input)) {
      if (CORE_IMAGE_ATTRIBUTES.has(key) || value === null || value === undefined) continue;
      if (typeof value !== "string") throw badRequest(`Provided object does not match schema 'image': ${JSON.stringify(value)} is not of type 'string' (property ${key})`);
      properties[key] = value;
    }
    if (input.os_hidden === true) properties.os_hidden = "true";
    const name = input.name ?? "";
    const created = await tenant.create<Image>(
      caller,
      imageKind,
      name,
      (choice, p) => ({
        apiVersion: imageKind.apiVersion,
        kind: imageKind.kind,
        metadata: { name: choice.objectName, namespace: p.namespace },
        spec: {
          ...specNameOf(choice),
          source: { upload: {} },
          ...(input.disk_format == null ? {} : { diskFormat: input.disk_format }),
          ...(input.container_format == null ? {} : { containerFormat: input.container_format }),
          ...(input.min_disk == null ? {} : { minDisk: input.min_disk }),
          ...(input.min_ram == null ? {} : { minRam: input.min_ram }),
          ...(input.visibility == null ? {} : { visibility: input.visibility }),
          ...(input.protected == null ? {} : { protected: input.protected }),
          ...(input.tags == null ? {} : { tags: [...new Set(input.tags)] }),
          ...(Object.keys(properties).length === 0 ? {} : { properties }),
        },
      }),
      failed("add_image", `image ${name}`),
      { fallback: "image", maxLength: 50 },
    );
    return reply(201, show(created), { Location: `${ctx.serviceUrl}/v2/images/${created.metadata.uid ?? ""}` });
  };

  /** Glance's JSON patch onto the Image spec (a merge patch of the fields it touches). */
  const updateImage = async (ctx: RouteContext): Promise<Reply> => {
    const caller = ctx.caller();
    const image = imageOr404(caller, ctx.params.id ?? "");
    ownedOr403(caller, image, "modify");
    const type = ctx.headers["content-type"] ?? "";
    if (!type.startsWith(PATCH_MEDIA_TYPE) && !type.startsWith("application/json-patch+json")) {
      throw new ApiError(415, `Unsupported Content-Type ${type}: send ${PATCH_MEDIA_TYPE}.`, { headers: { "Accept-Patch": PATCH_MEDIA_TYPE } });
    }
    const raw = await readBody(ctx.request, MAX_JSON_BODY_BYTES);
    const parsed = jsonPatchSchema.safeParse(parseJsonBody(raw.toString("utf8")));
    if (!parsed.success) throw badRequest("Unable to apply the patch: it must be a list of {op, path, value} operations.");
    const spec: Record<string, unknown> = {};
    const properties: Record<string, string | null> = {};
    let tags = [...(image.spec.tags ?? [])];
    for (const { op, path, value } of parsed.data) {
      const key = path.slice(1);
      const remove = op === "remove";
      switch (key) {
        case "name":
          spec.name = remove ? null : String(value);
          break;
        case "visibility":
          if (!IMAGE_VISIBILITIES.includes(value as (typeof IMAGE_VISIBILITIES)[number])) throw badRequest(`Invalid visibility value: ${String(value)}`);
          if (value === "public" && !caller.cloudAdmin) throw forbidden("You are not authorized to complete publicize_image action.");
          spec.visibility = value;
          break;
        case "protected":
          if (typeof value !== "boolean") throw badRequest("protected must be a boolean.");
          spec.protected = value;
          break;
        case "min_disk":
        case "min_ram":
          if (!Number.isInteger(value) || (value as number) < 0) throw badRequest(`${key} must be a non-negative integer.`);
          spec[key === "min_disk" ? "minDisk" : "minRam"] = value;
          break;
        case "disk_format":
        case "container_format":
          if (imageView(image, "").status !== "queued") throw forbidden(`Attribute ${key} can be only replaced for a queued image.`);
          spec[key === "disk_format" ? "diskFormat" : "containerFormat"] = value;
          break;
        case "tags":
          if (!Array.isArray(value)) throw badRequest("tags must be a list of strings.");
          tags = [...new Set(value.map(String))];
          spec.tags = tags;
          break;
        case "os_hidden":
          properties.os_hidden = value === true ? "true" : null;
          break;
        default:
          if (CORE_IMAGE_ATTRIBUTES.has(key)) throw forbidden(`Attribute '${key}' is read-only.`);
          if (remove) {
            if (image.spec.properties?.[key] === undefined) throw conflict(`Property ${key} does not exist.`);
            properties[key] = null;
          } else {
            if (typeof value !== "string") throw badRequest(`Provided object does not match schema 'image': property ${key} must be a string`);
            properties[key] = value;
          }
      }
    }
    if (Object.keys(properties).length > 0) spec.properties = properties;
    if (spec.name !== undefined && spec.name === image.metadata.name) spec.name = null;
    const updated = Object.keys(spec).length === 0 ? image : await tenant.patch<Image>(caller, imageKind, image, { spec }, failed("modify_image", `image ${image.metadata.uid ?? ""}`));
    return reply(200, show(updated));
  };

  const setTags = async (ctx: RouteContext, change: (tags: string[]) => string[]): Promise<Reply> => {
    const caller = ctx.caller();
    const image = imageOr404(caller, ctx.params.id ?? "");
    ownedOr403(caller, image, "modify");
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);
    const current = image.spec.tags ?? [];
    if (!same(change([...current]), current)) {
      await tenant.patchGuarded(caller, imageKind, image, (fresh) => ({ tags: change([...(fresh.spec.tags ?? [])]) }), failed("modify_image", `image ${image.metadata.uid ?? ""}`));
    }
    return reply(204);
  };

  // ---- members ----

  const membersOf = (image: Image) =>
    (image.spec.members ?? []).map((m) => memberView(image, identity.projectByObjectName(m.project)?.metadata.uid ?? m.project, m.status ?? "accepted"));

  type Members = NonNullable<Image["spec"]["members"]>;
  /**
   * A member accepting or rejecting a shared image writes to the owner's image: Glance's policy allows it,
   * Kubernetes RBAC cannot express it, so the facade writes as itself after checking the caller is that member.
   */
  const writeMembers = async (caller: Caller, image: Image, change: (members: Members) => Members, asFacade: boolean): Promise<void> => {
    const actor = asFacade ? { kube: deps.client } : caller;
    await tenant.patchGuarded(actor, imageKind, image, (fresh) => ({ members: change(fresh.spec.members ?? []) }), failed("modify_member", `image ${image.metadata.uid ?? ""}`));
  };

  const routes: Route[] = [
    {
      method: "GET",
      path: "/",
      public: true,
      handler: (ctx) => Promise.resolve(reply(300, { versions: versionList(ctx) })),
    },
    { method: "GET", path: "/versions", public: true, handler: (ctx) => Promise.resolve(reply(200, { versions: versionList(ctx) })) },
    { method: "GET", path: "/v2/images", handler: listImages },
    { method: "POST", path: "/v2/images", handler: createImage },
    { method: "GET", path: "/v2/images/{id}", handler: (ctx) => Promise.resolve(reply(200, show(imageOr404(ctx.caller(), ctx.params.id ?? "")))) },
    { method: "PATCH", path: "/v2/images/{id}", handler: updateImage },
    {
      method: "DELETE",
      path: "/v2/images/{id}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const image = imageOr404(caller, ctx.params.id ?? "");
        ownedOr403(caller, image, "delete");
        if (image.spec.protected === true) throw forbidden(`Image ${image.metadata.uid ?? ""} is protected and cannot be deleted.`);
        await tenant.delete(caller, imageKind, image, failed("delete_image", `image ${image.metadata.uid ?? ""}`));
        return reply(204);
      },
    },
    { method: "PUT", path: "/v2/images/{id}/file", rawBody: true, handler: uploadImageData },
    { method: "GET", path: "/v2/images/{id}/file", handler: downloadImageData },
    { method: "PUT", path: "/v2/images/{id}/stage", rawBody: true, handler: () => Promise.reject(notImplemented(UNSUPPORTED_IMPORT)) },
    { method: "POST", path: "/v2/images/{id}/import", handler: () => Promise.reject(notImplemented(UNSUPPORTED_IMPORT)) },
    { method: "PUT", path: "/v2/images/{id}/tags/{tag}", handler: (ctx) => setTags(ctx, (tags) => (tags.includes(ctx.params.tag ?? "") ? tags : [...tags, ctx.params.tag ?? ""])) },
    {
      method: "DELETE",
      path: "/v2/images/{id}/tags/{tag}",
      handler: (ctx) =>
        setTags(ctx, (tags) => {
          if (!tags.includes(ctx.params.tag ?? "")) throw notFound(`Tag ${ctx.params.tag ?? ""} not found`);
          return tags.filter((t) => t !== ctx.params.tag);
        }),
    },
    {
      method: "GET",
      path: "/v2/images/{id}/members",
      handler: (ctx) => {
        const caller = ctx.caller();
        const image = imageOr404(caller, ctx.params.id ?? "");
        const project = requireProject(caller);
        const members = image.metadata.namespace === project.namespace || caller.cloudAdmin ? membersOf(image) : membersOf(image).filter((m) => m.member_id === project.id);
        return Promise.resolve(reply(200, { members, schema: "/v2/schemas/members" }));
      },
    },
    {
      method: "POST",
      path: "/v2/images/{id}/members",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const image = imageOr404(caller, ctx.params.id ?? "");
        ownedOr403(caller, image, "share");
        if (visibilityOf(image) !== "shared") throw forbidden(`Only shared images have members: image ${image.metadata.uid ?? ""} is ${visibilityOf(image)}.`);
        const { member } = await ctx.body(z.object({ member: z.string().min(1) }));
        const project = identity.projectById(member);
        if (project === undefined) throw badRequest(`Project ${member} could not be found.`);
        const members = image.spec.members ?? [];
        if (members.some((m) => m.project === project.metadata.name)) throw conflict(`The member ${member} is already associated with the image.`);
        await writeMembers(caller, image, (current) => {
          if (current.some((m) => m.project === project.metadata.name)) throw conflict(`The member ${member} is already associated with the image.`);
          return [...current, { project: project.metadata.name ?? "", status: "pending" }];
        }, false);
        return reply(200, memberView(image, member, "pending"));
      },
    },
    {
      method: "GET",
      path: "/v2/images/{id}/members/{member}",
      handler: (ctx) => {
        const image = imageOr404(ctx.caller(), ctx.params.id ?? "");
        const found = membersOf(image).find((m) => m.member_id === ctx.params.member);
        if (found === undefined) throw notFound(`Member ${ctx.params.member ?? ""} not found`);
        return Promise.resolve(reply(200, found));
      },
    },
    {
      method: "PUT",
      path: "/v2/images/{id}/members/{member}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const project = requireProject(caller);
        const image = imageOr404(caller, ctx.params.id ?? "");
        if (ctx.params.member !== project.id) throw forbidden("Only the member itself can accept or reject a shared image.");
        const { status } = await ctx.body(z.object({ status: z.enum(["pending", "accepted", "rejected"]) }));
        const members = image.spec.members ?? [];
        if (!members.some((m) => m.project === project.objectName)) throw notFound(`Member ${project.id} not found`);
        await writeMembers(caller, image, (current) => current.map((m) => (m.project === project.objectName ? { ...m, status } : m)), true);
        return reply(200, memberView(image, project.id, status));
      },
    },
    {
      method: "DELETE",
      path: "/v2/images/{id}/members/{member}",
      handler: async (ctx) => {
        const caller = ctx.caller();
        const image = imageOr404(caller, ctx.params.id ?? "");
        ownedOr403(caller, image, "unshare");
        const project = identity.projectById(ctx.params.member ?? "");
        const members = image.spec.members ?? [];
        if (project === undefined || !members.some((m) => m.project === project.metadata.name)) throw notFound(`Member ${ctx.params.member ?? ""} not found`);
        await writeMembers(caller, image, (current) => current.filter((m) => m.project !== project.metadata.name), false);
        return reply(204);
      },
    },
    { method: "GET", path: "/v2/schemas/image", handler: () => Promise.resolve(reply(200, imageSchema())) },
    {
      method: "GET",
      path: "/v2/schemas/images",
      handler: () =>
        Promise.resolve(
          reply(200, {
            name: "images",
            properties: { images: { type: "array", items: imageSchema() }, schema: { type: "string" }, first: { type: "string" }, next: { type: "string" } },
            links: [{ rel: "first", href: "{first}" }, { rel: "next", href: "{next}" }, { rel: "describedby", href: "{schema}" }],
          }),
        ),
    },
    { method: "GET", path: "/v2/schemas/member", handler: () => Promise.resolve(reply(200, memberSchema())) },
    {
      method: "GET",
      path: "/v2/schemas/members",
      handler: () => Promise.resolve(reply(200, { name: "members", properties: { members: { type: "array", items: memberSchema() }, schema: { type: "string" } }, links: [{ rel: "describedby", href: "{schema}" }] })),
    },
    {
      method: "GET",
      path: "/v2/info/import",
      // No import method works until image data lands with the storage issue; an honest empty list.
      handler: () => Promise.resolve(reply(200, { "import-methods": { description: "Import methods available.", type: "array", value: [] } })),
    },
  ];

  function versionList(ctx: RouteContext) {
    return GLANCE_VERSIONS.map((id, i) => ({ id: `v${id}`, status: i === 0 ? "CURRENT" : "SUPPORTED", links: [{ rel: "self", href: `${ctx.serviceUrl}/v2/` }] }));
  }

  return { type: "image", prefix: SERVICE_PREFIXES.image, faultStyle: "glance", routes };
}
