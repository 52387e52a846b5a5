import { describe, expect, it } from "vitest";
import { DELAY_NAMES, parseCli, parseSimulatorConfig, SimulatorConfigError, uniformDelays } from "./config.js";

describe("parseSimulatorConfig", () => {
  it("fills quick defaults", () => {
    const config = parseSimulatorConfig();
    expect(config.nodes).toMatchObject({ count: 2, namePrefix: "sim-node-", zones: ["nova"] });
    expect(config.delays.vmiPhase).toBe(200);
    expect(config.delays.importDuration).toBe(500);
    expect(config.failures).toEqual({ invalidHostImports: true, annotation: true });
    expect(config.storage).toMatchObject({ driver: "sim.csi.altostack.io", storageClassName: "sim-standard", snapshotClassName: "sim-snapclass" });
  });

  it("accepts partial nested settings and zero delays", () => {
    const config = parseSimulatorConfig({ nodes: { zones: ["a", "b"] }, delays: { podStart: 0 } });
    expect(config.nodes.count).toBe(2);
    expect(config.nodes.zones).toEqual(["a", "b"]);
    expect(config.delays.podStart).toBe(0);
    expect(config.delays.podStop).toBe(100);
  });

  it.each([
    [{ nodes: { count: -1 } }, "nodes.count"],
    [{ nodes: { zones: [] } }, "nodes.zones"],
    [{ delays: { vmiPhase: 1.5 } }, "delays.vmiPhase"],
    [{ podCidr: "10.0.0.0/28" }, "podCidr"],
    [{ podCidr: "10.244.0.0/23", nodes: { count: 3 } }, "room for 2"],
    [{ nodes: { memory: "lots" } }, "quantity"],
  ])("rejects %j naming %s", (input, text) => {
    expect(() => parseSimulatorConfig(input)).toThrow(SimulatorConfigError);
    expect(() => parseSimulatorConfig(input)).toThrow(text);
  });

  it("sets every delay at once", () => {
    expect(Object.values(uniformDelays(0)).every((ms) => ms === 0)).toBe(true);
    expect(Object.keys(uniformDelays(0))).toEqual(DELAY_NAMES);
  });
});

describe("parseCli", () => {
  it("reads flags", () => {
    const cli = parseCli(
      ["--kubeconfig", "/tmp/kc", "--nodes", "3", "--zones", "az1, az2", "--delay-ms", "10", "--delay", "importDuration=50", "--no-fail-annotation"],
      {},
    );
    expect(cli.kubeconfig).toBe("/tmp/kc");
    expect(cli.config.nodes).toMatchObject({ count: 3, zones: ["az1", "az2"] });
    expect(cli.config.delays.vmiPhase).toBe(10);
    expect(cli.config.delays.importDuration).toBe(50);
    expect(cli.config.failures).toEqual({ invalidHostImports: true, annotation: false });
  });

  it("falls back to the environment, flags winning", () => {
    const cli = parseCli(["--nodes", "4"], { KUBECONFIG: "/env/kc", SIM_NODES: "9", SIM_ZONES: "x", SIM_DELAYS: "podStart=5,podStop=6" });
    expect(cli.kubeconfig).toBe("/env/kc");
    expect(cli.config.nodes).toMatchObject({ count: 4, zones: ["x"] });
    expect(cli.config.delays).toMatchObject({ podStart: 5, podStop: 6 });
  });

  it.each([
    [["--bogus"], "Unknown option"],
    [["--nodes", "two"], "--nodes expects an integer"],
    [["--delay", "warp=1"], "--delay expects <name>=<ms>"],
    [["--delay-ms=-5"], "delays.vmiPhase"],
  ])("rejects %j", (argv, text) => {
    expect(() => parseCli(argv, {})).toThrow(text);
  });

  it("knows --help", () => {
    expect(parseCli(["--help"], {}).help).toBe(true);
  });
});
