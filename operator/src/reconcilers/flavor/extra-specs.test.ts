import { describe, expect, it } from "vitest";
import { cpuTopology, hugepagesFor, interpretExtraSpecs } from "./extra-specs.js";
import { flavorReady } from "./status.js";

describe("cpu topology from hw:cpu_sockets/cores/threads", () => {
  it.each([
    ["nothing set: one socket per vCPU (Nova's default)", 4, {}, { sockets: 4, cores: 1, threads: 1 }],
    ["sockets only", 8, { sockets: 2 }, { sockets: 2, cores: 4, threads: 1 }],
    ["cores only", 8, { cores: 4 }, { sockets: 2, cores: 4, threads: 1 }],
    ["threads only", 8, { threads: 2 }, { sockets: 4, cores: 1, threads: 2 }],
    ["all three", 8, { sockets: 1, cores: 4, threads: 2 }, { sockets: 1, cores: 4, threads: 2 }],
  ])("%s", (_name, vcpus, requested, expected) => {
    expect(cpuTopology(vcpus, requested)).toEqual(expected);
  });

  it.each([
    ["sockets do not divide", 6, { sockets: 4 }],
    ["product too large", 4, { sockets: 2, cores: 2, threads: 2 }],
    ["threads do not divide", 3, { threads: 2 }],
  ])("refuses %s", (_name, vcpus, requested) => {
    expect(cpuTopology(vcpus, requested)).toMatch(/sockets × cores × threads must equal vcpus/);
  });
});

describe("hw:mem_page_size", () => {
  it.each([
    ["small", undefined],
    ["any", undefined],
    ["4", undefined],
    ["large", "2Mi"],
    ["2MB", "2Mi"],
    ["2048", "2Mi"],
    ["2048KB", "2Mi"],
    ["1GB", "1Gi"],
    ["1048576", "1Gi"],
  ])("%s → %s", (value, size) => {
    expect(hugepagesFor(value)).toEqual({ size });
  });

  it("names the supported sizes when the value is not one", () => {
    expect(hugepagesFor("16MB")).toEqual({ error: expect.stringContaining("small, large, any, 4KB, 2MB, 1GB") as unknown });
  });
});

describe("extra specs as a whole", () => {
  it("maps dedicated CPUs, isolated emulator threads, hugepages and the RNG", () => {
    const verdict = interpretExtraSpecs(4, {
      "hw:cpu_policy": "dedicated",
      "hw:emulator_threads_policy": "isolate",
      "hw:mem_page_size": "1GB",
      "hw_rng:allowed": "True",
      "quota:disk_read_bytes_sec": "10240000",
      "hw:numa_nodes": "2",
    });
    expect(verdict).toEqual({
      ok: true,
      domain: {
        topology: { sockets: 4, cores: 1, threads: 1 },
        dedicatedCpus: true,
        isolateEmulatorThread: true,
        hugepagesPageSize: "1Gi",
        rng: true,
      },
      // quota:* steer Nova only and are not worth a word; hw:numa_nodes has no KubeVirt mapping here.
      ignored: ["hw:numa_nodes"],
    });
  });

  it("says that mixed CPU policy and emulator isolation without dedicated CPUs are not honoured", () => {
    const verdict = interpretExtraSpecs(2, { "hw:cpu_policy": "mixed", "hw:emulator_threads_policy": "isolate" });
    expect(verdict.ok && verdict.domain.dedicatedCpus).toBe(false);
    expect(verdict.ok ? verdict.ignored.join("\n") : "").toMatch(/mixed[\s\S]*emulator_threads_policy=isolate/);
  });

  it("collects every error", () => {
    const verdict = interpretExtraSpecs(4, { "hw:cpu_sockets": "3", "hw:mem_page_size": "3MB", "hw:cpu_cores": "x" });
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? [] : verdict.errors).toHaveLength(3);
  });
});

describe("Flavor Ready", () => {
  it("describes what servers get", () => {
    const verdict = flavorReady({ vcpus: 4, ram: 8192, disk: 80, extraSpecs: { "hw:cpu_sockets": "2", "hw:mem_page_size": "large" } });
    expect(verdict).toEqual({
      status: "True",
      reason: "Reconciled",
      message: "4 vCPU (2 sockets × 2 cores × 1 thread), 8192 MiB RAM on 2Mi hugepages, 80 GiB disk",
    });
  });

  it("is False with the reason when extra specs are invalid", () => {
    const verdict = flavorReady({ vcpus: 3, ram: 512, disk: 1, extraSpecs: { "hw:cpu_threads": "2" } });
    expect(verdict.status).toBe("False");
    expect(verdict.reason).toBe("InvalidSpec");
    expect(verdict.message).toContain("cannot make 3 vCPUs");
  });
});
