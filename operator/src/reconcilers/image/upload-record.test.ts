import { describe, expect, it } from "vitest";
import { UPLOAD_IDLE_MS, uploadedDataFields, uploadRecordAnnotations, uploadRecordOf, uploadStreamingFor } from "./upload-record.js";

const md5 = "d41d8cd98f00b204e9800998ecf8427e";
const sha512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

describe("upload record", () => {
  it("round-trips through annotations", () => {
    const record = { size: 1073741824, md5, sha512 };
    expect(uploadRecordOf(uploadRecordAnnotations(record))).toEqual(record);
  });

  it.each<[string, Record<string, string> | undefined]>([
    ["no annotations", undefined],
    ["size missing", { "altostack.io/upload-md5": md5, "altostack.io/upload-sha512": sha512 }],
    ["size not a number", { "altostack.io/upload-size": "12x", "altostack.io/upload-md5": md5, "altostack.io/upload-sha512": sha512 }],
    ["md5 too short", { "altostack.io/upload-size": "1", "altostack.io/upload-md5": "abc", "altostack.io/upload-sha512": sha512 }],
    ["sha512 upper case", { "altostack.io/upload-size": "1", "altostack.io/upload-md5": md5, "altostack.io/upload-sha512": sha512.toUpperCase() }],
  ])("%s → no record", (_name, annotations) => {
    expect(uploadRecordOf(annotations)).toBeUndefined();
  });

  it("status shows the record only once the data is in place", () => {
    const record = { size: 5, md5, sha512 };
    expect(uploadedDataFields(record, true, {})).toEqual({ size: 5, checksum: md5, osHashAlgo: "sha512", osHashValue: sha512 });
    expect(uploadedDataFields(record, false, {})).toEqual({ size: undefined, checksum: undefined, osHashAlgo: undefined, osHashValue: undefined });
    const earlier = { size: 7, checksum: "x", osHashAlgo: "sha512", osHashValue: "y" };
    expect(uploadedDataFields(undefined, true, earlier)).toEqual(earlier);
  });

  const now = new Date("2026-11-22T12:00:00.000Z");
  const marked = (at: string): Record<string, string> => ({ "altostack.io/upload-streaming": at });
  it.each<[string, Record<string, string> | undefined, number]>([
    ["no mark", undefined, 0],
    ["just marked", marked("2026-11-22T12:00:00.000Z"), UPLOAD_IDLE_MS],
    ["marked 20 s ago", marked("2026-11-22T11:59:40.000Z"), UPLOAD_IDLE_MS - 20_000],
    ["marked exactly the idle timeout ago (stale)", marked(new Date(now.getTime() - UPLOAD_IDLE_MS).toISOString()), 0],
    ["marked an hour ago (the image API died)", marked("2026-11-22T11:00:00.000Z"), 0],
    ["a mark from the future (skew)", marked("2026-11-22T12:05:00.000Z"), UPLOAD_IDLE_MS],
    ["not a time", marked("soon"), 0],
  ])("streaming mark: %s → fresh for %i ms", (_name, annotations, ms) => {
    expect(uploadStreamingFor(annotations, now)).toBe(ms);
  });
});
