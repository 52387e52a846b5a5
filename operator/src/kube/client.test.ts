import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough, Readable } from "node:stream";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { splitLines, type WatchEvent } from "./client.js";
import {
  KubeApiError,
  KubeRequestError,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
} from "./errors.js";
import { Builtin, type KubeObject } from "./resources.js";
import { testClient } from "./testing.js";


const SERVER = "https://kube.test:6443";
const CM_PATH = "/api/v1/namespaces/default/configmaps";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const cm = (name: string, rv = "1", data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", resourceVersion: rv },
  data,
});

const status = (code: number, reason: string, message: string, details?: object) => ({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  code,
  reason,
  message,
  ...(details === undefined ? {} : { details }),
});

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe("nock interception (guards against a client that bypasses it)", () => {
  it("intercepts requests and refuses un-mocked hosts with NetConnectNotAllowedError", async () => {
    const scope = nock(SERVER).get(`${CM_PATH}/a`).reply(200, cm("a"));
    const client = testClient(SERVER);
    await client.get(Builtin.ConfigMap, "a", "default");
    expect(scope.isDone()).toBe(true);

    const unmocked = testClient("https://unmocked.test:6443");
    const error: unknown = await unmocked.get(Builtin.ConfigMap, "a", "default").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeRequestError);
    const cause = (error as KubeRequestError).cause as { name?: string; code?: string };
    expect(cause.name).toBe("NetConnectNotAllowedError");
    expect(cause.code).toBe("ENETUNREACH");
  });
});

describe("KubeClient requests", () => {
  it("get returns the object and sends the bearer token", async () => {
    const scope = nock(SERVER)
      .matchHeader("authorization", "Bearer s3cret")
      .matchHeader("accept", "application/json")
      .get(`${CM_PATH}/a`)
      .reply(200, cm("a", "7", { k: "v" }));
    const got = await testClient(SERVER, { token: "s3cret" }).get<ConfigMap>(Builtin.ConfigMap, "a", "default");
    expect(got?.data).toEqual({ k: "v" });
    expect(got?.metadata.resourceVersion).toBe("7");
    expect(scope.isDone()).toBe(true);
  });

  it("get returns undefined on 404", async () => {
    nock(SERVER).get(`${CM_PATH}/missing`).reply(404, status(404, "NotFound", 'configmaps "missing" not found'));
    await expect(testClient(SERVER).get(Builtin.ConfigMap, "missing", "default")).resolves.toBeUndefined();
  });

  it("addresses cluster-scoped and grouped resources", async () => {
    const scope = nock(SERVER)
      .get("/apis/kubevirt.io/v1/namespaces/p1/virtualmachines/vm1")
      .reply(200, { metadata: { name: "vm1" } })
      .get("/api/v1/namespaces/p1")
      .reply(200, { metadata: { name: "p1" } });
    const client = testClient(SERVER);
    await client.get(Builtin.Namespace, "p1");
    await client.get({ group: "kubevirt.io", version: "v1", kind: "VirtualMachine", plural: "virtualmachines", namespaced: true }, "vm1", "p1");
    expect(scope.isDone()).toBe(true);
  });

  it("listAll follows continue tokens and fills in apiVersion/kind", async () => {
    const scope = nock(SERVER)
      .get(CM_PATH)
      .query({ limit: "2", labelSelector: "app=x" })
      .reply(200, { metadata: { resourceVersion: "100", continue: "tok1" }, items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }] })
      .get(CM_PATH)
      .query({ limit: "2", labelSelector: "app=x", continue: "tok1" })
      .reply(200, { metadata: { resourceVersion: "100" }, items: [{ metadata: { name: "c" } }] });
    const result = await testClient(SERVER).listAll<ConfigMap>(Builtin.ConfigMap, {
      namespace: "default",
      labelSelector: "app=x",
      pageSize: 2,
    });
    expect(result.items.map((i) => i.metadata.name)).toEqual(["a", "b", "c"]);
    expect(result.items.every((i) => i.apiVersion === "v1" && i.kind === "ConfigMap")).toBe(true);
    expect(result.resourceVersion).toBe("100");
    expect(scope.isDone()).toBe(true);
  });

  it("listAll falls back to a full list when a continue token expired", async () => {
    nock(SERVER)
      .get(CM_PATH)
      .query({ limit: "1" })
      .reply(200, { metadata: { resourceVersion: "5", continue: "old" }, items: [{ metadata: { name: "a" } }] })
      .get(CM_PATH)
      .query({ limit: "1", continue: "old" })
      .reply(410, status(410, "Expired", "The provided continue parameter is too old"))
      .get(CM_PATH)
      .reply(200, { metadata: { resourceVersion: "9" }, items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }] });
    const result = await testClient(SERVER).listAll(Builtin.ConfigMap, { namespace: "default", pageSize: 1 });
    expect(result.items.map((i) => i.metadata.name)).toEqual(["a", "b"]);
    expect(result.resourceVersion).toBe("9");
  });

  it("list treats null items as empty and rejects a malformed envelope", async () => {
    nock(SERVER).get(CM_PATH).reply(200, { metadata: { resourceVersion: "3" }, items: null });
    await expect(testClient(SERVER).list(Builtin.ConfigMap, { namespace: "default" })).resolves.toEqual({
      items: [],
      resourceVersion: "3",
      continue: undefined,
    });
    nock(SERVER).get(CM_PATH).reply(200, { items: "nope" });
    await expect(testClient(SERVER).list(Builtin.ConfigMap, { namespace: "default" })).rejects.toBeInstanceOf(
      KubeRequestError,
    );
  });

  it("apply is a server-side apply PATCH with fieldManager and force, without managedFields", async () => {
    let sent: unknown;
    const scope = nock(SERVER)
      .matchHeader("content-type", "application/apply-patch+yaml")
      .patch(`${CM_PATH}/a`, (body: unknown) => {
        sent = body;
        return true;
      })
      .query({ fieldManager: "altostack-test", force: "true" })
      .reply(200, cm("a", "2", { k: "v" }));
    const desired: ConfigMap = {
      metadata: { name: "a", namespace: "default", managedFields: [{ manager: "x" }] },
      data: { k: "v" },
    };
    const result = await testClient(SERVER).apply(Builtin.ConfigMap, desired, { fieldManager: "altostack-test" });
    expect(result.metadata.resourceVersion).toBe("2");
    expect(scope.isDone()).toBe(true);
    expect(sent).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" }, data: { k: "v" } });
  });

  it("apply honours force=false and dryRun; applyStatus targets /status", async () => {
    const scope = nock(SERVER)
      .patch(`${CM_PATH}/a`)
      .query({ fieldManager: "m", force: "false", dryRun: "All" })
      .reply(200, cm("a"))
      .patch("/apis/altostack.io/v1alpha1/namespaces/p/servers/s1/status")
      .query({ fieldManager: "m", force: "true" })
      .reply(200, { metadata: { name: "s1" } });
    const client = testClient(SERVER);
    await client.apply(Builtin.ConfigMap, cm("a"), { fieldManager: "m", force: false, dryRun: true });
    await client.applyStatus(
      { group: "altostack.io", version: "v1alpha1", kind: "Server", plural: "servers", namespaced: true },
      { metadata: { name: "s1", namespace: "p" }, status: { phase: "Active" } },
      { fieldManager: "m" },
    );
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    ["merge", "application/merge-patch+json", { metadata: { labels: { a: "b" } } }],
    ["json", "application/json-patch+json", [{ op: "add", path: "/metadata/labels/a", value: "b" }]],
    ["strategic", "application/strategic-merge-patch+json", { metadata: { labels: { a: "b" } } }],
  ] as const)("patch %s sends %s", async (type, contentType, body) => {
    let sent: unknown;
    const scope = nock(SERVER)
      .matchHeader("content-type", contentType)
      .patch(`${CM_PATH}/a`, (b: unknown) => {
        sent = b;
        return true;
      })
      .reply(200, cm("a"));
    await testClient(SERVER).patch(Builtin.ConfigMap, "a", "default", body, type);
    expect(scope.isDone()).toBe(true);
    expect(sent).toEqual(body);
  });

  it("create POSTs to the collection; replace PUTs to the object", async () => {
    let created: unknown;
    const scope = nock(SERVER)
      .post(CM_PATH, (b: unknown) => {
        created = b;
        return true;
      })
      .query({ dryRun: "All" })
      .reply(201, cm("a", "1"))
      .put(`${CM_PATH}/a`)
      .reply(200, cm("a", "2"));
    const client = testClient(SERVER);
    await client.create(Builtin.ConfigMap, { metadata: { name: "a", namespace: "default" } }, { dryRun: true });
    expect(created).toMatchObject({ apiVersion: "v1", kind: "ConfigMap" });
    const replaced = await client.replace(Builtin.ConfigMap, cm("a", "1"));
    expect(replaced.metadata.resourceVersion).toBe("2");
    expect(scope.isDone()).toBe(true);
  });

  it("delete is true when deleted or deleting, false when absent, and sends DeleteOptions", async () => {
    let options: unknown;
    nock(SERVER)
      .delete(`${CM_PATH}/a`, (b: unknown) => {
        options = b;
        return true;
      })
      .reply(200, cm("a"))
      .delete(`${CM_PATH}/b`)
      .reply(404, status(404, "NotFound", "not found"));
    const client = testClient(SERVER);
    await expect(
      client.delete(Builtin.ConfigMap, "a", "default", {
        propagationPolicy: "Foreground",
        preconditions: { uid: "u1" },
      }),
    ).resolves.toBe(true);
    expect(options).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      propagationPolicy: "Foreground",
      preconditions: { uid: "u1" },
    });
    await expect(client.delete(Builtin.ConfigMap, "b", "default")).resolves.toBe(false);
  });

  it("raw request returns text for non-JSON endpoints", async () => {
    nock(SERVER).get("/readyz").query({ verbose: "true" }).reply(200, "[+]ping ok\nreadyz check passed\n");
    const res = await testClient(SERVER).request({ method: "GET", path: "/readyz", query: { verbose: true } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("readyz check passed");
  });

  it("times out slow requests", async () => {
    nock(SERVER).get(`${CM_PATH}/slow`).delay(2_000).reply(200, cm("slow"));
    const error: unknown = await testClient(SERVER, { requestTimeoutMs: 50 })
      .get(Builtin.ConfigMap, "slow", "default")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeRequestError);
    expect((error as Error).message).toContain("timed out");
  });

  it("respects an abort signal", async () => {
    nock(SERVER).get(`${CM_PATH}/slow`).delay(2_000).reply(200, cm("slow"));
    const controller = new AbortController();
    const pending = testClient(SERVER).get(Builtin.ConfigMap, "slow", "default", { signal: controller.signal });
    controller.abort();
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeRequestError);
    expect((error as Error).message).toContain("aborted");
  });
});

describe("errors", () => {
  const cases = [
    { code: 404, reason: "NotFound", check: isNotFound },
    { code: 409, reason: "AlreadyExists", check: isAlreadyExists },
    { code: 409, reason: "Conflict", check: isConflict },
    { code: 422, reason: "Invalid", check: isInvalid },
    { code: 403, reason: "Forbidden", check: isForbidden },
    { code: 410, reason: "Expired", check: isGone },
  ];
  const allChecks = [isNotFound, isAlreadyExists, isConflict, isInvalid, isForbidden, isGone];

  it.each(cases)("a $code $reason Status becomes a KubeApiError only $reason matches", async ({ code, reason, check }) => {
    const causes = [{ reason: "FieldValueInvalid", message: "bad", field: "spec.x" }];
    nock(SERVER).post(CM_PATH).reply(code, status(code, reason, `server says ${reason}`, { name: "a", causes }));
    const error: unknown = await testClient(SERVER)
      .create(Builtin.ConfigMap, cm("a"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    const apiError = error as KubeApiError;
    expect(apiError).toMatchObject({ statusCode: code, reason, message: `server says ${reason}`, method: "POST", path: CM_PATH });
    expect(apiError.details?.causes).toEqual(causes);
    for (const other of allChecks) expect(other(error)).toBe(other === check);
  });

  it("derives the reason from the HTTP code when the body is not a Status", async () => {
    nock(SERVER).get(`${CM_PATH}/a`).reply(403, "forbidden by proxy");
    const error: unknown = await testClient(SERVER)
      .get(Builtin.ConfigMap, "a", "default")
      .catch((e: unknown) => e);
    expect(isForbidden(error)).toBe(true);
    expect((error as Error).message).toBe("forbidden by proxy");
  });
});

describe("impersonation", () => {
  it("sends Impersonate-* headers from the impersonating client only", async () => {
    const scope = nock(SERVER)
      .matchHeader("impersonate-user", "alice")
      .matchHeader("impersonate-uid", "u-1")
      .matchHeader("impersonate-group", (v) => v.includes("project:p1") && v.includes("system:authenticated"))
      .get(`${CM_PATH}/a`)
      .reply(200, cm("a"));
    const base = testClient(SERVER);
    const alice = base.impersonate({ user: "alice", uid: "u-1", groups: ["project:p1", "system:authenticated"] });
    await alice.get(Builtin.ConfigMap, "a", "default");
    expect(scope.isDone()).toBe(true);

    const plain = nock(SERVER, { badheaders: ["impersonate-user", "impersonate-group"] })
      .get(`${CM_PATH}/a`)
      .reply(200, cm("a"));
    await base.get(Builtin.ConfigMap, "a", "default");
    expect(plain.isDone()).toBe(true);
  });

  it("sends each group as its own header line (checked on a real socket)", async () => {
    nock.enableNetConnect("127.0.0.1");
    const seen: string[][] = [];
    const server = http.createServer((req, res) => {
      const raw = req.rawHeaders;
      const pairs: string[][] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? "", raw[i + 1] ?? ""]);
      seen.push(...pairs.filter(([k]) => k?.toLowerCase().startsWith("impersonate-")));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(cm("a")));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = testClient(`http://127.0.0.1:${port}`).impersonate({
        user: "bob",
        groups: ["g1", "g2"],
        extra: { scopes: ["a", "b"] },
      });
      await client.get(Builtin.ConfigMap, "a", "default");
      client.close();
    } finally {
      server.close();
      nock.disableNetConnect();
    }
    expect(seen).toEqual([
      ["Impersonate-User", "bob"],
      ["Impersonate-Group", "g1"],
      ["Impersonate-Group", "g2"],
      ["Impersonate-Extra-scopes", "a"],
      ["Impersonate-Extra-scopes", "b"],
    ]);
  });
});

describe("watch", () => {
  const line = (type: string, name: string, rv: string): string =>
    JSON.stringify({ type, object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default", resourceVersion: rv } } }) + "\n";

  async function collect(iterable: AsyncIterable<WatchEvent<ConfigMap>>): Promise<WatchEvent<ConfigMap>[]> {
    const events: WatchEvent<ConfigMap>[] = [];
    for await (const event of iterable) events.push(event);
    return events;
  }

  it("streams NDJSON events with the watch query, including bookmarks and errors", async () => {
    const payload =
      line("ADDED", "a", "11") +
      line("MODIFIED", "a", "12") +
      JSON.stringify({ type: "BOOKMARK", object: { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "13" } } }) +
      "\n" +
      line("DELETED", "a", "14") +
      JSON.stringify({ type: "ERROR", object: status(410, "Expired", "too old resource version: 1 (14)") }) +
      "\n";
    const bytes = Buffer.from(payload);
    // Deliberately awkward chunks: 7 bytes each, so lines and JSON tokens are split mid-way.
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const scope = nock(SERVER)
      .get(CM_PATH)
      .query({ watch: "true", resourceVersion: "10", allowWatchBookmarks: "true", timeoutSeconds: "60", labelSelector: "a=b" })
      .reply(200, () => Readable.from(chunks));
    const events = await collect(
      testClient(SERVER).watch<ConfigMap>(Builtin.ConfigMap, {
        namespace: "default",
        resourceVersion: "10",
        timeoutSeconds: 60,
        labelSelector: "a=b",
      }),
    );
    expect(scope.isDone()).toBe(true);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "BOOKMARK", "DELETED", "ERROR"]);
    expect(events.map((e) => (e.type === "ERROR" ? e.object.code : e.object.metadata.resourceVersion))).toEqual([
      "11",
      "12",
      "13",
      "14",
      410,
    ]);
  });

  it("throws KubeApiError when the watch request itself is refused", async () => {
    nock(SERVER).get(CM_PATH).query(true).reply(410, status(410, "Gone", "too old"));
    const error: unknown = await collect(testClient(SERVER).watch(Builtin.ConfigMap, { namespace: "default", resourceVersion: "1" })).catch(
      (e: unknown) => e,
    );
    expect(isGone(error)).toBe(true);
  });

  it("yields events before the stream ends and stops quietly on abort", async () => {
    const body = new PassThrough();
    nock(SERVER).get(CM_PATH).query(true).reply(200, () => body);
    const controller = new AbortController();
    const stream = testClient(SERVER).watch<ConfigMap>(
      Builtin.ConfigMap,
      { namespace: "default", resourceVersion: "1" },
      controller.signal,
    );
    const iterator = stream[Symbol.asyncIterator]();
    body.write(line("ADDED", "a", "2"));
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ type: "ADDED", object: { metadata: { name: "a" } } });
    const second = iterator.next();
    controller.abort();
    await expect(second).resolves.toEqual({ done: true, value: undefined });
  });

  it("rejects a line that is not a watch event", async () => {
    nock(SERVER).get(CM_PATH).query(true).reply(200, '{"type":"WHAT","object":{}}\n');
    await expect(collect(testClient(SERVER).watch(Builtin.ConfigMap, { namespace: "default" }))).rejects.toBeInstanceOf(
      KubeRequestError,
    );
  });
});

describe("splitLines", () => {
  const text = '{"a":"héllo 🌍"}\n\n{"b":"ünïcødé"}\r\n{"c":3}';
  const bytes = Buffer.from(text);
  const expected = ['{"a":"héllo 🌍"}', '{"b":"ünïcødé"}', '{"c":3}'];

  async function lines(chunks: Uint8Array[]): Promise<string[]> {
    const out: string[] = [];
    for await (const l of splitLines(Readable.from(chunks))) out.push(l);
    return out;
  }

  it("yields the same lines for every single split point, including inside multi-byte characters", async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await lines([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(expected);
    }
  });

  it("yields the same lines when fed one byte at a time", async () => {
    expect(await lines([...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it("yields the same lines for every pair of split points", async () => {
    for (let i = 0; i <= bytes.length; i += 3) {
      for (let j = i; j <= bytes.length; j += 2) {
        expect(await lines([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])).toEqual(expected);
      }
    }
  });
});
