import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import type { UploadRecord } from "../../reconcilers/image/upload-record.js";
import { ApiError } from "../common/errors.js";
import { proxyFault, UploadDigest } from "./upload.js";

function chunks(count: number, size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent === count) {
        this.push(null);
        return;
      }
      this.push(Buffer.alloc(size, sent % 251));
      sent++;
    },
  });
}

const sink = () =>
  new Writable({
    write(_chunk: Buffer, _encoding, done) {
      done();
    },
  });

describe("UploadDigest", () => {
  it("counts and hashes what flows through, and records before the end passes", async () => {
    const md5 = createHash("md5");
    const sha512 = createHash("sha512");
    for (let i = 0; i < 5; i++) {
      md5.update(Buffer.alloc(1000, i));
      sha512.update(Buffer.alloc(1000, i));
    }
    const events: string[] = [];
    let recorded: UploadRecord | undefined;
    const digest = new UploadDigest(10_000, async (record) => {
      await new Promise((r) => setTimeout(r, 5));
      recorded = record;
      events.push("recorded");
    });
    const out = sink();
    out.on("finish", () => events.push("downstream finished"));
    await pipeline(chunks(5, 1000), digest, out);
    expect(recorded).toEqual({ size: 5000, md5: md5.digest("hex"), sha512: sha512.digest("hex") });
    expect(events).toEqual(["recorded", "downstream finished"]);
  });

  it("fails the stream with Glance's 413 past the cap, without recording", async () => {
    let recorded = false;
    const digest = new UploadDigest(2500, () => {
      recorded = true;
      return Promise.resolve();
    });
    const failure = await pipeline(chunks(5, 1000), digest, sink()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(413);
    expect((failure as ApiError).message).toBe("The incoming image is too large: Denying attempt to upload image larger than 2500 bytes.");
    expect(recorded).toBe(false);
  });

  it("a failing record fails the stream before its end reaches downstream", async () => {
    let finished = false;
    const out = sink();
    out.on("finish", () => (finished = true));
    const digest = new UploadDigest(10_000, () => Promise.reject(new Error("forbidden")));
    await expect(pipeline(chunks(2, 10), digest, out)).rejects.toThrow("forbidden");
    expect(finished).toBe(false);
  });

  it("an empty upload is a valid zero-byte image", async () => {
    let recorded: UploadRecord | undefined;
    await pipeline(Readable.from([]), new UploadDigest(10, (r) => Promise.resolve(void (recorded = r))), sink());
    expect(recorded).toEqual({ size: 0, md5: "d41d8cd98f00b204e9800998ecf8427e", sha512: createHash("sha512").digest("hex") });
  });
});

describe("upload proxy answers as Glance faults", () => {
  it.each<[number, string, number, RegExp]>([
    [400, "Virtual image size 2147483648 is larger than the reported available storage 1073741824. A larger PVC is required.", 413, /^Image storage media is full: Virtual image size/],
    [400, "bad qcow2 header", 400, /refused by the image store: bad qcow2 header/],
    [404, "PVC ns/x not found", 409, /could not be found after upload\. The image may have been deleted during the upload\./],
    [503, "upload server for PVC ns/x is not ready", 503, /not ready to take data .* Retry the upload\./],
    [401, "authentication failed: token expired", 500, /upload proxy answered 401: authentication failed: token expired/],
    [500, "disk on fire", 500, /failed to store the data/],
  ])("%i %s → %i", (status, text, expected, message) => {
    const fault = proxyFault(status, text, "img-1");
    expect(fault.status).toBe(expected);
    expect(fault.message).toMatch(message);
  });
});
