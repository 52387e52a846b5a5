// The pieces of RFC 6455 (WebSocket) the project needs, without a library: the opening handshake (keys, the
// Sec-WebSocket-Accept proof, subprotocol choice) and a small frame codec. The facade's console proxy only
// checks handshakes and relays frames untouched; the codec serves the simulated virt-api and the tests.
import { createHash, randomBytes } from "node:crypto";

const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** KubeVirt's console and VNC subresources speak this subprotocol (raw bytes in binary frames). */
export const KUBEVIRT_PLAIN_SUBPROTOCOL = "plain.kubevirt.io";

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** The Sec-WebSocket-Accept value that proves a server read this Sec-WebSocket-Key. */
export function websocketAccept(key: string): string {
  return createHash("sha1").update(`${key}${HANDSHAKE_GUID}`).digest("base64");
}

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64. */
export function newWebsocketKey(random: (n: number) => Buffer = randomBytes): string {
  return random(16).toString("base64");
}

/** A Sec-WebSocket-Key is base64 of exactly 16 bytes. */
export function isWebsocketKey(key: string | undefined): key is string {
  return key !== undefined && /^[A-Za-z0-9+/]{22}==$/.test(key);
}

/** `Sec-WebSocket-Protocol` header values → the offered subprotocols, in the client's order. */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.flatMap((v) => v.split(",")).map((p) => p.trim()).filter((p) => p !== "");
}

/**
 * The subprotocol to answer with: the first of `supported` (our preference) the client offered; undefined when
 * the client offered none (no header in the answer); null when it offered only ones we cannot speak.
 */
export function chooseSubprotocol(offered: readonly string[], supported: readonly string[]): string | undefined | null {
  if (offered.length === 0) return undefined;
  return supported.find((p) => offered.includes(p)) ?? null;
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** One frame; `mask` (4 bytes) is required of clients and forbidden to servers (RFC 6455 §5.1). */
export function encodeFrame(opcode: Opcode, payload: Buffer, mask?: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (mask === undefined ? 0 : 4));
  header[0] = 0x80 | opcode;
  const maskBit = mask === undefined ? 0 : 0x80;
  if (lengthBytes === 0) header[1] = maskBit | length;
  else if (lengthBytes === 2) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (mask === undefined) return Buffer.concat([header, payload]);
  mask.copy(header, 2 + lengthBytes, 0, 4);
  return Buffer.concat([header, applyMask(payload, mask)]);
}

function applyMask(payload: Buffer, mask: Buffer): Buffer {
  const out = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return out;
}

/** Frames out of a byte stream that may split them anywhere; masked payloads come out unmasked. */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload = 16 * 1024 * 1024) {}

  push(chunk: Buffer): Frame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  private next(): Frame | undefined {
    const b = this.buffered;
    if (b.length < 2) return undefined;
    const first = b[0] as number;
    const second = b[1] as number;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(this.maxPayload)) throw new Error(`websocket frame of ${big} bytes exceeds ${this.maxPayload}`);
      length = Number(big);
      offset = 10;
    }
    if (length > this.maxPayload) throw new Error(`websocket frame of ${length} bytes exceeds ${this.maxPayload}`);
    const masked = (second & 0x80) !== 0;
    const mask = masked ? b.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (b.length < offset + length) return undefined;
    const raw = b.subarray(offset, offset + length);
    const payload = mask === undefined ? Buffer.from(raw) : applyMask(raw, mask);
    this.buffered = b.subarray(offset + length);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload };
  }
}
