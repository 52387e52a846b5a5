// Image data through the Glance facade into CDI (the simulated cdi-uploadproxy): a 1 GiB upload streamed with
// bounded memory and its size/md5/sha512 computed on the way; the faults of a wrong request; an aborted upload
// leaving the image queued for a retry; the data downloaded back through a KubeVirt VirtualMachineExport.
// Peak RSS is printed, never timed.
import { createHash } from "node:crypto";
import http from "node:http";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageKind, type Image } from "../src/api/index.js";
import { Builtin, Upstream, type KubeObject } from "../src/kube/index.js";
import { http as facadeHttp, issueToken, projectWithUser, startFacadeEnv, type FacadeEnv } from "./facade-helpers.js";
import { eventually, testClient } from "./helpers.js";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

let env: FacadeEnv;
let token: string;
let namespace: string;
let projectId: string;
let projectName: string;

beforeAll(async () => {
  env = await startFacadeEnv({ simulator: true });
  const user = await projectWithUser(env, { role: "member" });
  token = await issueToken(env, user);
  namespace = `project-${user.project}`;
  projectId = user.projectId;
  projectName = user.project;
}, 180_000);

afterAll(async () => {
  await env.stop();
});

interface ImageView {
  id: string;
  status: string;
  size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
}

async function createImage(name: string): Promise<ImageView> {
  const created = await facadeHttp(env, "POST", "/image/v2/images", { token, body: { name, disk_format: "raw", container_format: "bare" } });
  expect(created.status).toBe(201);
  return created.body as ImageView;
}

async function showImage(id: string): Promise<ImageView> {
  const shown = await facadeHttp(env, "GET", `/image/v2/images/${id}`, { token });
  expect(shown.status).toBe(200);
  return shown.body as ImageView;
}

/** `bytes` of deterministic data produced in 1 MiB chunks as they are read (never held), hashed as they go. */
function generated(bytes: number): { stream: Readable; digests: () => { md5: string; sha512: string } } {
  const md5 = createHash("md5");
  const sha512 = createHash("sha512");
  let produced = 0;
  let counter = 0;
  const stream = new Readable({
    highWaterMark: MIB,
    read() {
      if (produced >= bytes) {
        this.push(null);
        return;
      }
      const size = Math.min(MIB, bytes - produced);
      const chunk = Buffer.allocUnsafe(size);
      for (let i = 0; i + 4 <= size; i += 4096) chunk.writeUInt32LE(counter++ >>> 0, i);
      chunk.fill(counter & 0xff, 4, Math.min(size, 4096));
      md5.update(chunk);
      sha512.update(chunk);
      produced += size;
      this.push(chunk);
    },
  });
  return { stream, digests: () => ({ md5: md5.digest("hex"), sha512: sha512.digest("hex") }) };
}

/** PUT …/file with a streamed body; resolves with the status and text of the answer. */
function putFile(
  id: string,
  body: Readable | undefined,
  opts: { contentType?: string; contentLength?: number; abortAfterBytes?: number } = {},
): Promise<{ status: number; text: string }> {
  const url = new URL(`${env.facade.url}/image/v2/images/${id}/file`);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "X-Auth-Token": token, "Content-Type": opts.contentType ?? "application/octet-stream" };
    if (opts.contentLength !== undefined) headers["Content-Length"] = String(opts.contentLength);
    // A fresh connection per request, so an abort breaks only this one.
    const request = http.request(url, { method: "PUT", headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (c: string) => (text += c));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, text });
      });
    });
    request.on("error", reject);
    if (body === undefined) {
      request.end();
      return;
    }
    let sent = 0;
    const count = (chunk: Buffer): void => {
      sent += chunk.length;
      if (opts.abortAfterBytes !== undefined && sent > opts.abortAfterBytes) {
        // Stop sending, let what was sent reach the facade (and flow on to CDI), then drop the connection.
        body.unpipe(request);
        body.destroy();
        setTimeout(() => {
          request.destroy();
          resolve({ status: 0, text: "aborted by the client" });
        }, 500);
      }
    };
    // Bytes are sent (and counted) once connected: before that they would only queue in the client.
    request.once("socket", (socket) => {
      socket.once("connect", () => {
        body.on("data", count);
        body.pipe(request);
      });
    });
  });
}

/** Runs `work` while sampling this process's RSS every 50 ms: the baseline before it and the peak during it. */
async function measuringRss<T>(work: () => Promise<T>): Promise<{ result: T; baseline: number; peak: number }> {
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const sampler = setInterval(sample, 50);
  try {
    const result = await work();
    sample();
    return { result, baseline, peak };
  } finally {
    clearInterval(sampler);
  }
}

describe("Glance image upload into CDI", () => {
  it("streams a 1 GiB upload with bounded memory; size, md5 and sha512 match the sender's", async () => {
    const image = await createImage("one-gib");
    expect(image.status).toBe("queued");
    const data = generated(GIB);
    const { result: answer, baseline, peak } = await measuringRss(() => putFile(image.id, data.stream)); // chunked: no Content-Length
    console.log(
      `1 GiB image upload: RSS baseline ${(baseline / MIB).toFixed(0)} MiB, peak ${(peak / MIB).toFixed(0)} MiB, growth ${((peak - baseline) / MIB).toFixed(0)} MiB`,
    );
    expect(answer.status, answer.text).toBe(204);
    const { md5, sha512 } = data.digests();
    const shown = await showImage(image.id);
    expect(shown).toMatchObject({ status: "active", size: GIB, checksum: md5, os_hash_algo: "sha512", os_hash_value: sha512 });
    // The property under test: the whole image is never in memory (generous bound; the process holds the
    // facade, the operator, the simulator and the sender).
    expect(peak - baseline).toBeLessThan(256 * MIB);
    // The Image object carries them in status (what kubectl and GitOps see).
    const stored = await testClient().get<Image>(imageKind, (await findImageName(image.id)) ?? "", namespace);
    expect(stored?.status).toMatchObject({ size: GIB, checksum: md5, osHashAlgo: "sha512", osHashValue: sha512 });
    expect(stored?.status?.uploadClaim).toBeUndefined();
    // An active image takes no more data: Glance's 409.
    const again = await putFile(image.id, Readable.from([Buffer.from("more")]));
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text)).toMatchObject({ code: "409 Conflict", title: "Conflict" });
  }, 600_000);

  it("answers Glance's faults for a wrong media type and for data over the size cap, and 204 for a queued image's file", async () => {
    const image = await createImage("faults");
    const wrongType = await putFile(image.id, Readable.from([Buffer.from("x")]), { contentType: "application/json" });
    expect(wrongType.status).toBe(415);
    const tooLarge = await putFile(image.id, undefined, { contentLength: 2 ** 41 });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.text).toContain("Denying attempt to upload image larger than");
    const download = await facadeHttp(env, "GET", `/image/v2/images/${image.id}/file`, { token });
    expect(download.status).toBe(204);
    expect((await showImage(image.id)).status).toBe("queued");
  }, 120_000);

  it("the tenant wall: another project gets 404, a reader of the project 403, and nothing is written", async () => {
    const image = await createImage("walled");
    const stranger = await issueToken(env, await projectWithUser(env, { role: "member" }));
    const reader = await issueToken(env, await projectWithUser(env, { project: projectName, existingProject: true, role: "reader" }));
    for (const [who, expected] of [[stranger, 404], [reader, 403]] as const) {
      const answer = await new Promise<number>((resolve, reject) => {
        const request = http.request(`${env.facade.url}/image/v2/images/${image.id}/file`, {
          method: "PUT",
          headers: { "X-Auth-Token": who, "Content-Type": "application/octet-stream", "Content-Length": "5" },
        });
        request.on("response", (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on("error", reject);
        request.end("bytes");
      });
      expect(answer).toBe(expected);
    }
    const stored = await testClient().get<Image>(imageKind, (await findImageName(image.id)) ?? "", namespace);
    expect(stored?.metadata.annotations?.["altostack.io/upload-md5"]).toBeUndefined();
    expect((await showImage(image.id)).status).toBe("queued");
  }, 120_000);

  it("an aborted upload leaves the image queued without a record, and a retry makes it active", async () => {
    const image = await createImage("retry");
    const name = await eventually("the image object", () => findImageName(image.id));
    // Once the volume takes data, the facade streams at once: the abort lands mid-transfer.
    await eventually("the upload volume ready", async () => (await testClient().get<Image>(imageKind, name, namespace))?.status?.uploadClaim);
    const aborted = await putFile(image.id, generated(64 * MIB).stream, { abortAfterBytes: 8 * MIB });
    expect(aborted.status).toBe(0);
    // Saving while the bytes flowed, queued again once the facade has seen the broken stream. The record is
    // written only once every byte has passed: a broken stream leaves none.
    await eventually("the aborted upload is queued again", async () => ((await showImage(image.id)).status === "queued" ? true : undefined));
    const afterAbort = await testClient().get<Image>(imageKind, name, namespace);
    expect(afterAbort?.metadata.annotations?.["altostack.io/upload-md5"]).toBeUndefined();
    const payload = Buffer.from("a small image, uploaded with a Content-Length");
    // Until the facade and the proxy have seen the broken stream, the volume is busy: 503 (or 409 while the
    // upload's mark is still on the image), retry (as the fault says).
    const retry = await eventually("the retried upload is accepted", async () => {
      const answer = await putFile(image.id, Readable.from([payload]), { contentLength: payload.length });
      if (answer.status === 503 || answer.status === 409) return undefined;
      return answer;
    });
    expect(retry.status, retry.text).toBe(204);
    expect((await testClient().get<Image>(imageKind, name, namespace))?.metadata.annotations?.["altostack.io/upload-streaming"]).toBeUndefined();
    expect(await showImage(image.id)).toMatchObject({
      status: "active",
      size: payload.length,
      checksum: createHash("md5").update(payload).digest("hex"),
      os_hash_value: createHash("sha512").update(payload).digest("hex"),
    });
  }, 120_000);

  it("shows saving while bytes stream, refuses a second concurrent upload with 409, and is queued again after an abort", async () => {
    const image = await createImage("saving");
    const name = await eventually("the image object", () => findImageName(image.id));
    await eventually("the upload volume ready", async () => (await testClient().get<Image>(imageKind, name, namespace))?.status?.uploadClaim);
    // A body the test feeds by hand: 4 MiB now, then nothing until the test has looked; one more MiB aborts it.
    const body = new PassThrough();
    const upload = putFile(image.id, body, { abortAfterBytes: 4 * MIB });
    body.write(Buffer.alloc(4 * MIB, 7));
    await eventually("the image shows saving mid-upload", async () => ((await showImage(image.id)).status === "saving" ? true : undefined));
    const mark = (await testClient().get<Image>(imageKind, name, namespace))?.metadata.annotations?.["altostack.io/upload-streaming"];
    expect(Number.isNaN(Date.parse(mark ?? ""))).toBe(false);

    const payload = Buffer.from("a second upload while the first is in flight");
    const second = await putFile(image.id, Readable.from([payload]), { contentLength: payload.length });
    expect(second.status, second.text).toBe(409);
    expect(second.text).toContain("Image status transition from saving to saving is not allowed");

    body.write(Buffer.alloc(MIB, 7));
    expect((await upload).status).toBe(0);
    await eventually("the aborted upload is queued again", async () => ((await showImage(image.id)).status === "queued" ? true : undefined));
    const after = await testClient().get<Image>(imageKind, name, namespace);
    expect(after?.metadata.annotations?.["altostack.io/upload-streaming"]).toBeUndefined();
    expect(after?.metadata.annotations?.["altostack.io/upload-md5"]).toBeUndefined();
  }, 120_000);
});

/** GET …/file, hashing the body as it arrives (never held whole). */
function download(id: string, who: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; md5: string; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${env.facade.url}/image/v2/images/${id}/file`, { headers: { "X-Auth-Token": who }, agent: false }, (response) => {
      const md5 = createHash("md5");
      let bytes = 0;
      let text = "";
      response.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        md5.update(chunk);
        if (text.length < 2000) text += chunk.toString("utf8", 0, Math.min(chunk.length, 2000));
      });
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, bytes, md5: md5.digest("hex"), text });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

async function exportsOf(imageName: string): Promise<KubeObject[]> {
  return (await testClient().list(Upstream.VirtualMachineExport, { namespace, labelSelector: `altostack.io/image-download=${imageName}` })).items;
}

describe("Glance image download from a KubeVirt VirtualMachineExport", () => {
  it("streams the uploaded bytes back identical, with Content-MD5 and Content-Length, and removes the export", async () => {
    const image = await createImage("round-trip");
    const data = generated(64 * MIB);
    const uploaded = await putFile(image.id, data.stream);
    expect(uploaded.status, uploaded.text).toBe(204);
    const { md5 } = data.digests();
    const { result: got, baseline, peak } = await measuringRss(() => download(image.id, token));
    console.log(`64 MiB image download: RSS growth ${((peak - baseline) / MIB).toFixed(0)} MiB`);
    expect(got.status, got.text).toBe(200);
    expect(got.headers["content-type"]).toBe("application/octet-stream");
    expect(got.headers["content-md5"]).toBe(md5);
    expect(got.headers["content-length"]).toBe(String(64 * MIB));
    expect(got.bytes).toBe(64 * MIB);
    expect(got.md5).toBe(md5);
    // The export (and, by garbage collection, its token Secret) goes once the stream is done.
    const name = (await findImageName(image.id)) ?? "";
    await eventually("the export deleted", async () => ((await exportsOf(name)).length === 0 ? true : undefined));
    await eventually("its token Secret collected", async () => {
      const secrets = (await testClient().list(Builtin.Secret, { namespace })).items;
      return secrets.some((x) => x.metadata.name?.startsWith(`${name}-download-`) === true) ? undefined : true;
    });
  }, 180_000);

  it("a client that goes away mid-download stops the stream, and the export is removed", async () => {
    const image = await createImage("download-abort");
    expect((await putFile(image.id, generated(32 * MIB).stream)).status).toBe(204);
    const name = (await findImageName(image.id)) ?? "";
    const received = await new Promise<number>((resolve, reject) => {
      const request = http.get(`${env.facade.url}/image/v2/images/${image.id}/file`, { headers: { "X-Auth-Token": token }, agent: false }, (response) => {
        expect(response.statusCode).toBe(200);
        let bytes = 0;
        response.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= MIB) {
            request.destroy();
            resolve(bytes);
          }
        });
      });
      request.on("error", (e) => {
        if (!request.destroyed) reject(e);
      });
    });
    expect(received).toBeLessThan(32 * MIB);
    await eventually("the export deleted", async () => ((await exportsOf(name)).length === 0 ? true : undefined));
  }, 120_000);

  it("the tenant wall: another project gets 404, a reader 403, and no export is left behind", async () => {
    const image = await createImage("download-walled");
    const payload = Buffer.from("walled image data");
    expect((await putFile(image.id, Readable.from([payload]), { contentLength: payload.length })).status).toBe(204);
    const stranger = await issueToken(env, await projectWithUser(env, { role: "member" }));
    const reader = await issueToken(env, await projectWithUser(env, { project: projectName, existingProject: true, role: "reader" }));
    const other = await download(image.id, stranger);
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text)).toMatchObject({ code: "404 Not Found" });
    const denied = await download(image.id, reader);
    expect(denied.status).toBe(403);
    expect(await exportsOf((await findImageName(image.id)) ?? "")).toEqual([]);
    // The owner still gets it.
    const own = await download(image.id, token);
    expect(own).toMatchObject({ status: 200, bytes: payload.length, md5: createHash("md5").update(payload).digest("hex") });
  }, 120_000);

  it("an image whose data the store does not hold (imported by URL in the simulator) is a clear 404, not made-up bytes", async () => {
    const name = "by-url";
    await testClient().create<Image>(imageKind, {
      apiVersion: imageKind.apiVersion,
      kind: imageKind.kind,
      metadata: { name, namespace },
      spec: { source: { http: { url: "http://images.example.org/cirros.img" } }, diskFormat: "raw", containerFormat: "bare" },
    });
    const active = await eventually("the imported image active", async () => {
      const image = await testClient().get<Image>(imageKind, name, namespace);
      return image?.status?.status === "active" ? image : undefined;
    });
    const got = await download(active.metadata.uid ?? "", token);
    expect(got.status, got.text).toBe(404);
    expect(JSON.parse(got.text)).toMatchObject({ code: "404 Not Found" });
    expect(got.text).toContain("could not be found in the image store");
    await eventually("the export deleted", async () => ((await exportsOf(name)).length === 0 ? true : undefined));
  }, 120_000);
});

describe("Cinder volume upload-to-image", () => {
  it("makes an Image from the volume, copied through a snapshot of its PVC, active with the volume's size", async () => {
    const created = await facadeHttp(env, "POST", `/volume/v3/${projectId}/volumes`, { token, body: { volume: { size: 2, name: "data" } } });
    expect(created.status, created.text).toBe(202);
    const volumeId = (created.body as { volume: { id: string } }).volume.id;
    await eventually("volume available", async () => {
      const shown = await facadeHttp(env, "GET", `/volume/v3/${projectId}/volumes/${volumeId}`, { token });
      return (shown.body as { volume: { status: string } }).volume.status === "available" ? true : undefined;
    });
    const action = await facadeHttp(env, "POST", `/volume/v3/${projectId}/volumes/${volumeId}/action`, {
      token,
      headers: { "OpenStack-API-Version": "volume 3.1" },
      body: { "os-volume_upload_image": { image_name: "from-data", force: false, disk_format: "raw", container_format: "bare", visibility: "private", protected: false } },
    });
    expect(action.status, action.text).toBe(202);
    const upload = (action.body as { "os-volume_upload_image": Record<string, unknown> })["os-volume_upload_image"];
    expect(upload).toMatchObject({ id: volumeId, status: "uploading", size: 2, image_name: "from-data", disk_format: "raw", container_format: "bare", visibility: "private", protected: false });
    const imageId = String(upload.image_id);
    // The image controller snapshots the volume's PVC and copies the snapshot into the image's DataVolume.
    const name = await eventually("the image object", () => findImageName(imageId));
    const dataVolume = await eventually("the image's DataVolume", () =>
      testClient().get<KubeObject & { spec: { source?: Record<string, unknown> } }>(Upstream.DataVolume, `${name}.image`, namespace),
    );
    expect(dataVolume.spec.source).toEqual({ snapshot: { namespace, name: `${name}.image` } });
    const active = await eventually("the image active", async () => {
      const shown = await showImage(imageId);
      return shown.status === "active" ? shown : undefined;
    });
    expect(active).toMatchObject({ size: 2 * GIB, disk_format: "raw", checksum: null });
    // The snapshot was only the way to the data.
    await eventually("the copy's snapshot removed", async () =>
      (await testClient().get(Upstream.VolumeSnapshot, `${name}.image`, namespace)) === undefined ? true : undefined,
    );
    // Bad input is Cinder's 400, and makes no image.
    const before = (await testClient().list<Image>(imageKind, { namespace })).items.length;
    const invalid = await facadeHttp(env, "POST", `/volume/v3/${projectId}/volumes/${volumeId}/action`, {
      token,
      body: { "os-volume_upload_image": { image_name: "x", disk_format: "vmdk-nope" } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ badRequest: { code: 400 } });
    expect((await testClient().list<Image>(imageKind, { namespace })).items.length).toBe(before);
  }, 120_000);
});

async function findImageName(uid: string): Promise<string | undefined> {
  const images = await testClient().list<Image>(imageKind, { namespace });
  return images.items.find((i) => i.metadata.uid === uid)?.metadata.name;
}
