import { PassThrough, Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { checkClientHandshake, consoleUrl, relay } from "./proxy.js";

const headers = (extra: Record<string, string> = {}) => ({
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  ...extra,
});

describe("the console proxy's client handshake", () => {
  it("answers a valid upgrade with the accept proof and the subprotocol noVNC asks for", () => {
    expect(checkClientHandshake("GET", headers({ "sec-websocket-protocol": "binary" }))).toEqual({
      ok: true,
      accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
      protocol: "binary",
    });
    expect(checkClientHandshake("GET", headers())).toMatchObject({ ok: true, protocol: undefined });
  });

  it.each([
    ["POST", headers(), 405],
    ["GET", headers({ upgrade: "h2c" }), 400],
    ["GET", headers({ "sec-websocket-version": "8" }), 400],
    ["GET", headers({ "sec-websocket-key": "short" }), 400],
    ["GET", headers({ "sec-websocket-protocol": "base64" }), 400],
  ])("refuses %s with %o: %d", (method, h, status) => {
    expect(checkClientHandshake(method, h)).toMatchObject({ ok: false, status });
  });

  it("builds ws:// and wss:// URLs on the facade's public URL", () => {
    expect(consoleUrl("http://127.0.0.1:5000", "abc.def")).toBe("ws://127.0.0.1:5000/console/abc.def");
    expect(consoleUrl("https://cloud.example/api", "t")).toBe("wss://cloud.example/api/console/t");
  });
});

/** One end of a bidirectional pipe: writes go to `out`, reads come from `in`. */
function end(input: PassThrough, output: PassThrough): Duplex {
  return Duplex.from({ readable: input, writable: output });
}

describe("relay", () => {
  it("copies bytes both ways and closes both sides when one closes", async () => {
    const [aIn, aOut, bIn, bOut] = [new PassThrough(), new PassThrough(), new PassThrough(), new PassThrough()];
    const a = end(aIn, aOut);
    const b = end(bIn, bOut);
    let closed = 0;
    relay(a, b, () => closed++);
    aIn.write("from a");
    bIn.write("from b");
    await new Promise((r) => setImmediate(r));
    expect(String(bOut.read())).toBe("from a");
    expect(String(aOut.read())).toBe("from b");
    a.destroy();
    await new Promise((r) => setImmediate(r));
    expect(b.destroyed).toBe(true);
    expect(closed).toBe(1);
  });
});
