import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { objectLogger, rootLogger } from "./log.js";

function sink() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe("rootLogger", () => {
  it.each([
    [{ LOG_LEVEL: "debug" }, "debug"],
    [{ LOG_LEVEL: "WARN" }, "warn"],
    [{}, "info"],
    [{ LOG_LEVEL: "loud" }, "info"],
  ])("LOG_LEVEL %o → %s", (env, level) => {
    const { destination } = sink();
    expect(rootLogger({ env, destination }).level).toBe(level);
  });

  it("an explicit level wins over the environment", () => {
    expect(rootLogger({ env: { LOG_LEVEL: "debug" }, level: "error", destination: sink().destination }).level).toBe("error");
  });

  it("objectLogger tags lines with kind, namespace and name", () => {
    const { lines, destination } = sink();
    const log = rootLogger({ env: {}, destination, name: "operator" });
    objectLogger(log, "Server", { metadata: { name: "s1", namespace: "p" } }).info("hello");
    objectLogger(log, "Project", { metadata: { name: "demo" } }).info("cluster-scoped");
    expect(lines[0]).toMatchObject({ component: "operator", kind: "Server", namespace: "p", name: "s1", msg: "hello" });
    expect(lines[1]).toMatchObject({ kind: "Project", name: "demo", msg: "cluster-scoped" });
    expect(lines[1]).not.toHaveProperty("namespace");
  });
});
