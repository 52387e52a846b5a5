import { describe, expect, it } from "vitest";
import { apiResourceList, consoleRefusal, parseConsolePath, parseSubresourcePath, vmOperationEffect, vmiOperationEffect } from "./subresources-state.js";
import type { VM, VMI } from "./types.js";

const BASE = "/apis/subresources.kubevirt.io/v1/namespaces/ns";

function vmi(over: { phase?: string; annotations?: Record<string, string>; deleting?: boolean } = {}): VMI {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: "web",
      namespace: "ns",
      uid: "vmi-uid",
      ...(over.annotations === undefined ? {} : { annotations: over.annotations }),
      ...(over.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { domain: { devices: {} } },
    status: { phase: over.phase ?? "Running" },
  };
}

function vm(runStrategy: string, pending = false): VM {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "web", namespace: "ns" },
    spec: { runStrategy, template: { spec: { domain: { devices: {} } } } },
    ...(pending ? { status: { stateChangeRequests: [{ action: "Stop" }] } } : {}),
  };
}

describe("virt-api paths", () => {
  it.each([
    ["PUT", `${BASE}/virtualmachineinstances/web/pause`, { kind: "vmi", namespace: "ns", name: "web", operation: "pause" }],
    ["PUT", `${BASE}/virtualmachineinstances/web/softreboot`, { kind: "vmi", namespace: "ns", name: "web", operation: "softreboot" }],
    ["PUT", `${BASE}/virtualmachines/web/restart?dryRun=All`, { kind: "vm", namespace: "ns", name: "web", operation: "restart" }],
    ["GET", "/apis/subresources.kubevirt.io/v1", { kind: "discovery" }],
    ["GET", "/apis/subresources.kubevirt.io", { kind: "group" }],
    ["GET", `${BASE}/virtualmachineinstances/web/pause`, undefined],
    ["PUT", `${BASE}/virtualmachineinstances/web/addvolume`, undefined],
  ])("%s %s", (method, path, expected) => {
    expect(parseSubresourcePath(method, path)).toEqual(expected);
  });

  it("lists every operation it serves in discovery", () => {
    const names = (apiResourceList().resources as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["virtualmachineinstances/pause", "virtualmachineinstances/reset", "virtualmachines/restart"]));
  });
});

describe("VMI operations", () => {
  it.each([
    ["pause a running guest", "pause", vmi(), { annotations: { "sim.altostack.io/paused": "true" } }],
    ["pause a paused guest", "pause", vmi({ annotations: { "sim.altostack.io/paused": "true" } }), { code: 409, message: "VMI web is already paused" }],
    ["unpause a running guest", "unpause", vmi(), { code: 409, message: "VMI web is not paused" }],
    ["unpause a paused guest", "unpause", vmi({ annotations: { "sim.altostack.io/paused": "true" } }), { annotations: { "sim.altostack.io/paused": null } }],
    ["soft reboot, counted", "softreboot", vmi({ annotations: { "sim.altostack.io/soft-reboots": "2" } }), { annotations: { "sim.altostack.io/soft-reboots": "3" } }],
    ["soft reboot a paused guest", "softreboot", vmi({ annotations: { "sim.altostack.io/paused": "true" } }), { code: 409 }],
    ["reset also unpauses", "reset", vmi({ annotations: { "sim.altostack.io/paused": "true" } }), { annotations: { "sim.altostack.io/resets": "1", "sim.altostack.io/paused": null } }],
    ["anything on a guest that is not running", "pause", vmi({ phase: "Scheduling" }), { code: 409, message: "VMI web is not running" }],
    ["anything on a missing VMI", "reset", undefined, { code: 404 }],
  ] as const)("%s", (_name, op, target, expected) => {
    expect(vmiOperationEffect(op, target, "web")).toMatchObject(expected);
  });
});

describe("VM operations", () => {
  it("restarts a running VM with Stop (of that VMI) then Start", () => {
    expect(vmOperationEffect("restart", vm("Always"), vmi(), "web")).toEqual({
      kind: "stateChange",
      requests: [{ action: "Stop", uid: "vmi-uid" }, { action: "Start" }],
    });
  });

  it.each([
    ["restart while a request is pending", "restart", vm("Always", true), vmi(), 409],
    ["restart of a stopped VM", "restart", vm("Halted"), undefined, 409],
    ["start of a running VM", "start", vm("Always"), vmi(), 409],
    ["anything on a missing VM", "stop", undefined, undefined, 404],
  ] as const)("refuses %s", (_name, op, target, instance, code) => {
    expect(vmOperationEffect(op, target, instance, "web")).toMatchObject({ code });
  });

  it("starts and stops by run strategy, or by request for Manual", () => {
    expect(vmOperationEffect("start", vm("Halted"), undefined, "web")).toEqual({ kind: "runStrategy", runStrategy: "Always" });
    expect(vmOperationEffect("stop", vm("Always"), vmi(), "web")).toEqual({ kind: "runStrategy", runStrategy: "Halted" });
    expect(vmOperationEffect("start", vm("Manual"), undefined, "web")).toEqual({ kind: "stateChange", requests: [{ action: "Start" }] });
    expect(vmOperationEffect("migrate", vm("Always"), vmi(), "web")).toEqual({ kind: "migrate", vmiName: "web" });
  });
});

describe("console subresources", () => {
  it("parses GET …/virtualmachineinstances/{name}/vnc and /console only", () => {
    expect(parseConsolePath("GET", `${BASE}/virtualmachineinstances/vm-1/vnc`)).toEqual({ namespace: "ns", name: "vm-1", console: "vnc" });
    expect(parseConsolePath("GET", `${BASE}/virtualmachineinstances/vm-1/console?x=1`)).toEqual({ namespace: "ns", name: "vm-1", console: "console" });
    expect(parseConsolePath("PUT", `${BASE}/virtualmachineinstances/vm-1/vnc`)).toBeUndefined();
    expect(parseConsolePath("GET", `${BASE}/virtualmachines/vm-1/vnc`)).toBeUndefined();
  });

  it("refuses a missing VMI (404) and one that is not running (409), as virt-api", () => {
    expect(consoleRefusal(undefined, "vm-1")).toMatchObject({ code: 404 });
    expect(consoleRefusal(vmi({ phase: "Scheduling" }), "vm-1")).toMatchObject({ code: 409, message: expect.stringContaining("VMI is not running") as unknown });
    expect(consoleRefusal(vmi({ phase: "Running", deleting: true }), "vm-1")).toMatchObject({ code: 409 });
    expect(consoleRefusal(vmi({ phase: "Running" }), "vm-1")).toBeUndefined();
  });

  it("lists the consoles in discovery", () => {
    const names = (apiResourceList().resources as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(["virtualmachineinstances/vnc", "virtualmachineinstances/console"]));
  });
});
