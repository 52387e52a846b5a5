// Builders for the unit tests of the pure simulator logic: minimal objects with overrides.
import type { Delays } from "./config.js";
import { uniformDelays } from "./config.js";
import type { DV, Node, PersistentVolumeClaim, VM, VMI } from "./types.js";

export const T0 = Date.parse("2026-01-01T00:00:00Z");

export function delays(overrides: Partial<Delays> = {}): Delays {
  return { ...uniformDelays(100), ...overrides };
}

export function node(name: string, opts: { zone?: string; ready?: boolean; unschedulable?: boolean; labels?: Record<string, string> } = {}): Node {
  return {
    metadata: {
      name,
      labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": opts.zone ?? "nova", ...opts.labels },
    },
    spec: { ...(opts.unschedulable === true ? { unschedulable: true } : {}), podCIDR: "10.244.0.0/24" },
    status: { conditions: [{ type: "Ready", status: opts.ready === false ? "False" : "True" }] },
  };
}

export function vm(overrides: { runStrategy?: string; volumes?: NonNullable<VM["spec"]["template"]["spec"]>["volumes"]; deleting?: boolean; status?: VM["status"] } = {}): VM {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: {
      name: "web",
      namespace: "tenant",
      uid: "vm-uid",
      generation: 3,
      ...(overrides.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      runStrategy: overrides.runStrategy ?? "Always",
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          domain: { devices: { disks: [{ name: "root", disk: { bus: "virtio" } }] } },
          volumes: overrides.volumes ?? [{ name: "root", dataVolume: { name: "web-root" } }],
        },
      },
    },
    ...(overrides.status === undefined ? {} : { status: overrides.status }),
  };
}

export function vmi(phase: string | undefined, overrides: { conditions?: NonNullable<VMI["status"]>["conditions"]; deleting?: boolean; status?: Partial<NonNullable<VMI["status"]>>; spec?: Partial<VMI["spec"]> } = {}): VMI {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: "web",
      namespace: "tenant",
      uid: "vmi-uid",
      ...(overrides.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: {
      domain: { devices: { disks: [{ name: "root", disk: { bus: "virtio" } }] } },
      volumes: [{ name: "root", dataVolume: { name: "web-root" } }],
      ...overrides.spec,
    },
    status: {
      ...(phase === undefined ? {} : { phase }),
      ...(overrides.conditions === undefined ? {} : { conditions: overrides.conditions }),
      ...overrides.status,
    },
  };
}

export function dataVolume(name: string, phase: string | undefined, conditions: { type: string; status: string; reason?: string }[] = []): DV {
  return {
    apiVersion: "cdi.kubevirt.io/v1beta1",
    kind: "DataVolume",
    metadata: { name, namespace: "tenant", uid: `${name}-uid` },
    spec: { source: { http: { url: "https://images.example.org/cirros.qcow2" } }, storage: { resources: { requests: { storage: "10Gi" } } } },
    status: { ...(phase === undefined ? {} : { phase }), conditions },
  };
}

export function pvc(name: string, phase: string | undefined, opts: { accessModes?: string[]; size?: string; capacity?: string; storageClassName?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "tenant", uid: `${name}-uid` },
    spec: {
      accessModes: opts.accessModes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: opts.size ?? "10Gi" } },
      storageClassName: opts.storageClassName ?? "sim-standard",
    },
    status: {
      ...(phase === undefined ? {} : { phase }),
      ...(opts.capacity === undefined ? {} : { capacity: { storage: opts.capacity } }),
    },
  };
}
