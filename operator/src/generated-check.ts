// Compile-time check that the generated upstream types (operator/src/generated/) can be used for the objects the
// operator writes. Nothing here runs: `tsc` fails if the types reject these objects or accept the wrong ones.
// When `make generate` changes the types, fix this file or the generator, never the generated files.
import type {
  AddVolumeOptions,
  DataVolume,
  DataVolumeSpec,
  Interface,
  MultiNetworkPolicy,
  Network,
  NetworkAttachmentDefinition,
  RemoveVolumeOptions,
  UploadTokenRequest,
  VirtualMachine,
  VirtualMachineClusterInstancetype,
  VirtualMachineInstanceMigration,
  Volume,
  VolumeSnapshot,
} from "./generated/index.js";

const bridgeInterface = {
  name: "net0",
  bridge: {},
  macAddress: "fa:16:3e:12:34:56",
} satisfies Interface;

const multusNetwork = {
  name: "net0",
  multus: { networkName: "tenant-a/net-1234" },
} satisfies Network;

const configDrive = {
  name: "cloudinit",
  cloudInitConfigDrive: { userData: "#cloud-config\n", networkData: "{}" },
} satisfies Volume;

export const _virtualMachine = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "server-1", namespace: "tenant-a", labels: { "altostack.io/server": "1" } },
  spec: {
    runStrategy: "Always",
    instancetype: { kind: "VirtualMachineClusterInstancetype", name: "m1.small" },
    dataVolumeTemplates: [
      {
        metadata: { name: "server-1-root" },
        spec: {
          sourceRef: { kind: "DataSource", name: "cirros", namespace: "images" },
          storage: { resources: { requests: { storage: "10Gi" } }, storageClassName: "standard" },
        },
      },
    ],
    template: {
      metadata: { labels: { "altostack.io/server": "1" } },
      spec: {
        domain: {
          devices: {
            disks: [
              { name: "root", disk: { bus: "virtio" } },
              { name: "cloudinit", cdrom: { bus: "sata" } },
            ],
            interfaces: [bridgeInterface],
          },
        },
        networks: [multusNetwork],
        volumes: [{ name: "root", dataVolume: { name: "server-1-root" } }, configDrive],
      },
    },
  },
} satisfies VirtualMachine;

const httpImport = {
  source: { http: { url: "https://images.example.org/cirros.qcow2" } },
  storage: { resources: { requests: { storage: "1Gi" } } },
} satisfies DataVolumeSpec;

export const _dataVolume = {
  apiVersion: "cdi.kubevirt.io/v1beta1",
  kind: "DataVolume",
  metadata: { name: "image-cirros", namespace: "images" },
  spec: httpImport,
} satisfies DataVolume;

export const _instancetype = {
  apiVersion: "instancetype.kubevirt.io/v1beta1",
  kind: "VirtualMachineClusterInstancetype",
  metadata: { name: "m1.small" },
  spec: { cpu: { guest: 1 }, memory: { guest: "2Gi" } },
} satisfies VirtualMachineClusterInstancetype;

export const _migration = {
  metadata: { generateName: "server-1-" },
  spec: { vmiName: "server-1" },
} satisfies VirtualMachineInstanceMigration;

export const _addVolume = {
  name: "vol-1",
  disk: { name: "vol-1", disk: { bus: "scsi" } },
  volumeSource: { persistentVolumeClaim: { claimName: "vol-1", hotpluggable: true } },
} satisfies AddVolumeOptions;

export const _removeVolume = { name: "vol-1" } satisfies RemoveVolumeOptions;

export const _uploadToken = {
  apiVersion: "upload.cdi.kubevirt.io/v1beta1",
  kind: "UploadTokenRequest",
  metadata: { name: "image-1", namespace: "images" },
  spec: { pvcName: "image-1" },
  status: {}, // CDI's swagger marks status required (the Go field has no omitempty)
} satisfies UploadTokenRequest;

export const _nad = {
  apiVersion: "k8s.cni.cncf.io/v1",
  kind: "NetworkAttachmentDefinition",
  metadata: { name: "net-1234", namespace: "tenant-a" },
  spec: { config: JSON.stringify({ cniVersion: "1.0.0", type: "bridge", bridge: "br-1234" }) },
} satisfies NetworkAttachmentDefinition;

export const _policy = {
  apiVersion: "k8s.cni.cncf.io/v1beta1",
  kind: "MultiNetworkPolicy",
  metadata: { name: "sg-1", annotations: { "k8s.v1.cni.cncf.io/policy-for": "tenant-a/net-1234" } },
  spec: {
    podSelector: { matchLabels: { "altostack.io/sg-1": "" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ protocol: "TCP", port: 22 }] }],
  },
} satisfies MultiNetworkPolicy;

export const _snapshot = {
  apiVersion: "snapshot.storage.k8s.io/v1",
  kind: "VolumeSnapshot",
  metadata: { name: "snap-1", namespace: "tenant-a" },
  spec: { source: { persistentVolumeClaimName: "vol-1" }, volumeSnapshotClassName: "csi-snapclass" },
} satisfies VolumeSnapshot;

// A CDI DataVolumeSpec fits into a VirtualMachine's dataVolumeTemplates (KubeVirt embeds an older copy of it).
export const _templateFromCdiSpec = {
  spec: { template: { spec: { domain: { devices: {} } } }, dataVolumeTemplates: [{ spec: httpImport }] },
} satisfies VirtualMachine;

// The types must reject mistakes, or they are no help: each line below must be a type error.
// @ts-expect-error: an Interface needs a name
export const _noName = { bridge: {} } satisfies Interface;
// @ts-expect-error: misspelled field
export const _typo = { name: "net0", macAdress: "fa:16:3e:00:00:01" } satisfies Interface;
// @ts-expect-error: a VirtualMachineSpec needs a template
export const _noTemplate = { spec: { runStrategy: "Always" } } satisfies VirtualMachine;
// @ts-expect-error: a storage request is a quantity, not an object
export const _badQuantity = { storage: { resources: { requests: { storage: { gi: 1 } } } } } satisfies DataVolumeSpec;
