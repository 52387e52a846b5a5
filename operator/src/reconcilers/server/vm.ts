// Pure: a Server (with the flavor and image it was admitted with) → the KubeVirt VirtualMachine that runs
// it, and the Secret with its SSH key. No I/O, no clock: the same inputs always give the same objects.
//
// Flavor → VM: cpu/memory go straight into the VM template, not through a VirtualMachineClusterInstancetype
// per flavor. A server must keep running on what it has when its Flavor is edited or deleted, and Nova
// keeps the flavor inside the instance for exactly that reason; the server's status keeps that snapshot
// (status.flavor) and the template is built from it, so nothing depends on a cluster object that may
// change or vanish. Resize is then a template change plus a restart, with no instancetype revision to
// clear, and a private flavor leaves no cluster-wide object every tenant could see.
import type {
  DataVolumeTemplateSpec,
  Disk,
  DomainSpec,
  Interface,
  Network,
  VirtualMachine,
  Volume,
} from "../../generated/index.js";
import {
  LABELS,
  MANAGED_BY,
  openstackName,
  projectOfNamespace,
  type DesiredPowerState,
  type FlavorSnapshot,
  type ImageSnapshot,
  type Server,
} from "../../api/index.js";
import type { KubeObject } from "../../kube/index.js";
import { interpretExtraSpecs, type FlavorDomain } from "../flavor/extra-specs.js";
import { interpretImageProperties, type ImageDomain } from "../image/properties.js";
import type { VmDataVolume } from "../volume/attach.js";
import { isoDiskName, labelValue } from "./names.js";

export type VirtualMachineObject = VirtualMachine & KubeObject;

/** Labels on the VM, its VMI (and so the virt-launcher pod) and its DataVolumes. */
export const ServerLabel = {
  server: "altostack.io/server",
  serverGroup: "altostack.io/server-group",
  domain: "kubevirt.io/domain",
} as const;

/**
 * How the instance joins its networks; the networking reconcilers provide it. Undefined means the pod
 * network only (masquerade), which is what a server without `networks` gets.
 */
export interface NetworkingInput {
  interfaces: Interface[];
  networks: Network[];
  /** OpenStack network_data.json for the config drive (static addresses, routes, DNS). */
  networkData?: unknown;
  /** OpenStack network name per interface name, for status.addresses (default: the interface name). */
  networkNames?: Readonly<Record<string, string>>;
  /** Labels the security groups' MultiNetworkPolicies select the virt-launcher pod by. */
  podLabels?: Readonly<Record<string, string>>;
}

/** The KubeVirt interface/network name of the pod network. */
export const POD_NETWORK = "default";
/** What status.addresses calls the pod network. */
export const POD_NETWORK_DISPLAY_NAME = "pod-network";

export function podNetworking(): NetworkingInput {
  return {
    interfaces: [{ name: POD_NETWORK, masquerade: {} }],
    networks: [{ name: POD_NETWORK, pod: {} }],
    networkNames: { [POD_NETWORK]: POD_NETWORK_DISPLAY_NAME },
  };
}

/** Where root disks go: left unset, CDI's StorageProfile of the default class decides. */
export interface DiskStorage {
  accessModes?: readonly string[] | undefined;
  storageClassName?: string | undefined;
}

export interface VmBuildInput {
  server: Server;
  vmName: string;
  flavor: FlavorSnapshot;
  image: ImageSnapshot;
  /** Name of the root disk's DataVolume. */
  rootDisk: string;
  /** Secret with the keypair's public key, when the server has a keypair. */
  sshSecret: string | undefined;
  networking: NetworkingInput | undefined;
  storage: DiskStorage;
  /** Attached data volumes (spec.volumes, planned by volume/attach.ts). */
  dataVolumes?: readonly VmDataVolume[];
  /** Volume-backed: the boot volume's claim is the root disk (no DataVolume of the VM's own). */
  bootVolumeClaim?: string | undefined;
}

export const RunStrategy = { Always: "Always", Halted: "Halted" } as const;

/** Whether the guest should be running (paused and suspended guests run, frozen). */
export function wantsRunning(powerState: DesiredPowerState | undefined): boolean {
  return powerState === undefined || powerState === "Active" || powerState === "Paused" || powerState === "Suspended";
}

/** Whether the guest should be paused (Suspended is paused too: KubeVirt has no suspend-to-disk). */
export function wantsPaused(powerState: DesiredPowerState | undefined): boolean {
  return powerState === "Paused" || powerState === "Suspended";
}

export function runStrategyFor(powerState: DesiredPowerState | undefined): string {
  return wantsRunning(powerState) ? RunStrategy.Always : RunStrategy.Halted;
}

/**
 * The root disk's size in GiB: the flavor's disk, or — for disk 0, Nova's "as big as the image" — the
 * image's minimum or its volume's size. Undefined lets CDI size the clone like its source.
 */
export function rootDiskSizeGiB(flavor: FlavorSnapshot, image: ImageSnapshot): number | undefined {
  if (flavor.disk > 0) return flavor.disk;
  const size = Math.max(image.minDisk ?? 0, image.sizeGiB ?? 0);
  return size > 0 ? size : undefined;
}

export function isIsoImage(image: ImageSnapshot): boolean {
  return image.diskFormat === "iso";
}

/** The guest's hostname: spec.hostname, else the OpenStack name made a DNS label (as Nova sanitises it). */
export function hostnameOf(server: Server): string {
  const requested = server.spec.hostname;
  if (requested !== undefined && requested !== "") return requested;
  const sanitised = openstackName(server)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return sanitised === "" ? "server" : sanitised;
}

function cpuOf(domain: FlavorDomain): NonNullable<DomainSpec["cpu"]> {
  return {
    sockets: domain.topology.sockets,
    cores: domain.topology.cores,
    threads: domain.topology.threads,
    ...(domain.dedicatedCpus ? { dedicatedCpuPlacement: true } : {}),
    ...(domain.isolateEmulatorThread ? { isolateEmulatorThread: true } : {}),
  };
}

/** The domain parts a flavor decides; also what "the VMI runs this flavor" is checked against. */
export function flavorDomain(flavor: FlavorSnapshot): Pick<DomainSpec, "cpu" | "memory" | "resources"> {
  const verdict = interpretExtraSpecs(flavor.vcpus, flavor.extraSpecs);
  // The Flavor reconciler reports invalid extra specs; a server still gets a plain topology from them.
  const domain: FlavorDomain = verdict.ok
    ? verdict.domain
    : {
        topology: { sockets: flavor.vcpus, cores: 1, threads: 1 },
        dedicatedCpus: false,
        isolateEmulatorThread: false,
        hugepagesPageSize: undefined,
        rng: false,
      };
  const memory = `${flavor.ram}Mi`;
  return {
    cpu: cpuOf(domain),
    memory: {
      guest: memory,
      ...(domain.hugepagesPageSize === undefined ? {} : { hugepages: { pageSize: domain.hugepagesPageSize } }),
    },
    resources: { requests: { memory } },
  };
}

function firmwareOf(serverId: string, image: ImageDomain): NonNullable<DomainSpec["firmware"]> {
  // firmware.uuid is the SMBIOS UUID: the config drive's meta_data.json takes `uuid` from it, so the guest
  // sees its Nova server id.
  return {
    uuid: serverId,
    ...(image.firmware === "uefi" ? { bootloader: { efi: { secureBoot: image.secureBoot } } } : {}),
  };
}

function featuresOf(image: ImageDomain): DomainSpec["features"] {
  const features: NonNullable<DomainSpec["features"]> = {};
  if (image.secureBoot) features.smm = { enabled: true };
  if (image.windows) {
    features.hyperv = { relaxed: {}, vapic: {}, spinlocks: { spinlocks: 8191 } };
  }
  return Object.keys(features).length === 0 ? undefined : features;
}

function storageOf(sizeGiB: number | undefined, storage: DiskStorage): NonNullable<DataVolumeTemplateSpec["spec"]["storage"]> {
  return {
    ...(sizeGiB === undefined ? {} : { resources: { requests: { storage: `${sizeGiB}Gi` } } }),
    ...(storage.accessModes === undefined || storage.accessModes.length === 0
      ? {}
      : { accessModes: [...storage.accessModes] as NonNullable<DataVolumeTemplateSpec["spec"]["storage"]>["accessModes"] }),
    ...(storage.storageClassName === undefined ? {} : { storageClassName: storage.storageClassName }),
  };
}

/** The cloud-init config drive: user data as given (KubeVirt needs some; an empty cloud-config does nothing). */
function configDriveVolume(server: Server, networking: NetworkingInput | undefined): Volume {
  const { userData, userDataBase64 } = server.spec;
  const user =
    userDataBase64 !== undefined
      ? { userDataBase64 }
      : { userData: userData !== undefined && userData !== "" ? userData : "#cloud-config\n" };
  const networkData = networking?.networkData === undefined ? {} : { networkData: JSON.stringify(networking.networkData) };
  return { name: "cloudinitdisk", cloudInitConfigDrive: { ...user, ...networkData } };
}

function affinityOf(server: Server): NonNullable<VirtualMachine["spec"]["template"]["spec"]>["affinity"] {
  const affinity: NonNullable<NonNullable<VirtualMachine["spec"]["template"]["spec"]>["affinity"]> = {};
  const zone = server.spec.availabilityZone;
  if (zone !== undefined && zone !== "") {
    // Nova's AvailabilityZoneFilter: only hosts in the zone.
    affinity.nodeAffinity = {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: [zone] }] }],
      },
    };
  }
  const group = server.spec.serverGroup;
  if (group !== undefined) {
    // Nova's (Soft)(Anti)AffinityFilter/Weigher: virt-launcher pods carry the group label from the template.
    const term = {
      labelSelector: { matchLabels: { [ServerLabel.serverGroup]: labelValue(group.name) } },
      topologyKey: "kubernetes.io/hostname",
    };
    const soft = group.policy.startsWith("soft-");
    const anti = group.policy.endsWith("anti-affinity");
    const rule = soft
      ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] }
      : { requiredDuringSchedulingIgnoredDuringExecution: [term] };
    if (anti) affinity.podAntiAffinity = rule;
    else affinity.podAffinity = rule;
  }
  return Object.keys(affinity).length === 0 ? undefined : affinity;
}

/** The VirtualMachine for a server. Owner references are added by the apply helper, not here. */
export function desiredVirtualMachine(input: VmBuildInput): VirtualMachineObject {
  const { server, vmName, flavor, image, rootDisk, storage } = input;
  const namespace = server.metadata.namespace ?? "";
  const imageDomain = interpretImageProperties(image.properties);
  const flavorVerdict = interpretExtraSpecs(flavor.vcpus, flavor.extraSpecs);
  const networking = input.networking ?? podNetworking();
  const iso = isIsoImage(image);

  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [ServerLabel.server]: labelValue(server.metadata.name ?? ""),
  };
  const project = projectOfNamespace(namespace);
  if (project !== undefined) labels[LABELS.project] = labelValue(project);

  const templateLabels: Record<string, string> = {
    [ServerLabel.domain]: vmName,
    [ServerLabel.server]: labelValue(server.metadata.name ?? ""),
  };
  if (server.spec.serverGroup !== undefined) templateLabels[ServerLabel.serverGroup] = labelValue(server.spec.serverGroup.name);
  Object.assign(templateLabels, input.networking?.podLabels);

  const size = rootDiskSizeGiB(flavor, image);
  const dataSourceRef = { kind: "DataSource", name: image.dataSource, namespace: image.namespace };
  const bootClaim = input.bootVolumeClaim;
  const imageDisks: DataVolumeTemplateSpec[] = iso
    ? [
        {
          metadata: { name: isoDiskName(rootDisk), labels: { [ServerLabel.server]: labels[ServerLabel.server] ?? "" } },
          spec: { sourceRef: dataSourceRef, storage: storageOf(image.sizeGiB, storage) },
        },
        {
          metadata: { name: rootDisk, labels: { [ServerLabel.server]: labels[ServerLabel.server] ?? "" } },
          spec: { source: { blank: {} }, storage: storageOf(size, storage) },
        },
      ]
    : [
        {
          metadata: { name: rootDisk, labels: { [ServerLabel.server]: labels[ServerLabel.server] ?? "" } },
          spec: { sourceRef: dataSourceRef, storage: storageOf(size, storage) },
        },
      ];
  const dataVolumeTemplates = bootClaim === undefined ? imageDisks : [];

  const disks: Disk[] = [];
  const volumes: Volume[] = [];
  if (iso && bootClaim === undefined) {
    disks.push({ name: "cdrom", cdrom: { bus: imageDomain.cdromBus, readonly: true }, bootOrder: 1 });
    volumes.push({ name: "cdrom", dataVolume: { name: isoDiskName(rootDisk) } });
  }
  if (bootClaim !== undefined) {
    // The Cinder volume's claim, as it is: the VM neither clones nor owns it, so it outlives the VM.
    disks.push({ name: "root", disk: { bus: imageDomain.diskBus }, bootOrder: 1 });
    volumes.push({ name: "root", persistentVolumeClaim: { claimName: bootClaim } });
  } else {
    disks.push({ name: "root", disk: { bus: imageDomain.diskBus }, bootOrder: iso ? 2 : 1 });
    volumes.push({ name: "root", dataVolume: { name: rootDisk } });
  }
  if ((flavor.ephemeral ?? 0) > 0) {
    disks.push({ name: "ephemeral0", disk: { bus: imageDomain.diskBus } });
    volumes.push({ name: "ephemeral0", emptyDisk: { capacity: `${String(flavor.ephemeral)}Gi` } });
  }
  if ((flavor.swap ?? 0) > 0) {
    disks.push({ name: "swap", disk: { bus: imageDomain.diskBus } });
    volumes.push({ name: "swap", emptyDisk: { capacity: `${String(flavor.swap)}Mi` } });
  }
  disks.push({ name: "cloudinitdisk", disk: { bus: "virtio" } });
  volumes.push(configDriveVolume(server, input.networking));
  for (const data of input.dataVolumes ?? []) {
    // KubeVirt hot-plugs disks on the SCSI bus; a volume present at boot is an ordinary disk.
    disks.push({ name: data.name, disk: { bus: data.hotpluggable ? "scsi" : imageDomain.diskBus } });
    volumes.push({ name: data.name, persistentVolumeClaim: { claimName: data.claimName, ...(data.hotpluggable ? { hotpluggable: true } : {}) } });
  }

  const interfaces: Interface[] = networking.interfaces.map((iface) =>
    iface.model === undefined && imageDomain.nicModel !== undefined ? { ...iface, model: imageDomain.nicModel } : iface,
  );

  const features = featuresOf(imageDomain);
  const domain: DomainSpec = {
    ...flavorDomain(flavor),
    firmware: firmwareOf(server.metadata.uid ?? "", imageDomain),
    ...(features === undefined ? {} : { features }),
    ...(imageDomain.windows
      ? {
          clock: {
            utc: {},
            timer: { hpet: { present: false }, pit: { tickPolicy: "delay" }, rtc: { tickPolicy: "catchup" }, hyperv: {} },
          },
        }
      : {}),
    ...(imageDomain.machineType === undefined ? {} : { machine: { type: imageDomain.machineType } }),
    devices: {
      disks,
      interfaces,
      ...(flavorVerdict.ok && flavorVerdict.domain.rng ? { rng: {} } : {}),
    },
  };

  const affinity = affinityOf(server);
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: vmName, namespace, labels },
    spec: {
      runStrategy: runStrategyFor(server.spec.powerState),
      ...(dataVolumeTemplates.length === 0 ? {} : { dataVolumeTemplates }),
      template: {
        metadata: { labels: templateLabels },
        spec: {
          domain,
          networks: networking.networks,
          volumes,
          hostname: hostnameOf(server),
          ...(affinity === undefined ? {} : { affinity }),
          ...(input.sshSecret === undefined
            ? {}
            : {
                accessCredentials: [
                  {
                    sshPublicKey: {
                      source: { secret: { secretName: input.sshSecret } },
                      propagationMethod: { configDrive: {} },
                    },
                  },
                ],
              }),
        },
      },
    },
  };
}

export interface SecretObject extends KubeObject {
  type?: string;
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}

/** The Secret KubeVirt reads the server's SSH key from (each value is one authorized key). */
export function desiredSshSecret(server: Server, name: string, publicKey: string): SecretObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: server.metadata.namespace ?? "",
      labels: { [LABELS.managedBy]: MANAGED_BY, [ServerLabel.server]: labelValue(server.metadata.name ?? "") },
    },
    type: "Opaque",
    data: { key: Buffer.from(publicKey.trim()).toString("base64") },
  };
}
