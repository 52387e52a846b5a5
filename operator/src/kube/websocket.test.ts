import { describe, expect, it } from "vitest";
import { FrameDecoder, Opcode, chooseSubprotocol, encodeFrame, isWebsocketKey, newWebsocketKey, offeredSubprotocols, websocketAccept } from "./websocket.js";

describe("websocket handshake", () => {
  it("computes Sec-WebSocket-Accept as RFC 6455 §1.3 shows", () => {
    expect(websocketAccept("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("makes keys of 16 random bytes and recognises only such keys", () => {
    const key = newWebsocketKey();
    expect(Buffer.from(key, "base64")).toHaveLength(16);
    expect(isWebsocketKey(key)).toBe(true);
    expect(isWebsocketKey("dGhlIHNhbXBsZSBub25jZQ==")).toBe(true);
    expect(isWebsocketKey("c2hvcnQ=")).toBe(false);
    expect(isWebsocketKey(undefined)).toBe(false);
  });

  it.each([
    { header: undefined, supported: ["binary"], chosen: undefined },
    { header: "binary, base64", supported: ["binary", "plain.kubevirt.io"], chosen: "binary" },
    { header: ["base64", "plain.kubevirt.io"], supported: ["binary", "plain.kubevirt.io"], chosen: "plain.kubevirt.io" },
    { header: "base64", supported: ["binary"], chosen: null },
  ])("chooses $chosen from $header", ({ header, supported, chosen }) => {
    expect(chooseSubprotocol(offeredSubprotocols(header), supported)).toBe(chosen);
  });
});

describe("websocket frames", () => {
  const mask = Buffer.from([1, 2, 3, 4]);

  it.each([0, 5, 125, 126, 65535, 65536])("round-trips a %d-byte payload, masked and unmasked", (size) => {
    const payload = Buffer.alloc(size, 0x61);
    for (const m of [undefined, mask]) {
      const [frame, ...rest] = new FrameDecoder().push(encodeFrame(Opcode.binary, payload, m));
      expect(rest).toEqual([]);
      expect(frame).toEqual({ fin: true, opcode: Opcode.binary, payload });
    }
  });

  it("masks what clients send (the bytes on the wire differ from the payload)", () => {
    const wire = encodeFrame(Opcode.text, Buffer.from("hi"), mask);
    expect([...wire]).toEqual([0x81, 0x82, 1, 2, 3, 4, "h".charCodeAt(0) ^ 1, "i".charCodeAt(0) ^ 2]);
  });

  it("decodes frames split anywhere and several in one chunk", () => {
    const bytes = Buffer.concat([encodeFrame(Opcode.binary, Buffer.from("RFB 003.008\n")), encodeFrame(Opcode.close, Buffer.from([3, 232]), mask)]);
    const decoder = new FrameDecoder();
    const frames = [...bytes].flatMap((b) => decoder.push(Buffer.from([b])));
    expect(frames.map((f) => [f.opcode, f.payload.toString("latin1")])).toEqual([
      [Opcode.binary, "RFB 003.008\n"],
      [Opcode.close, "\u0003\u00e8"],
    ]);
  });

  it("refuses frames larger than its limit", () => {
    expect(() => new FrameDecoder(10).push(encodeFrame(Opcode.binary, Buffer.alloc(11)))).toThrow(/exceeds 10/);
  });
});
