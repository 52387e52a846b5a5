import { describe, expect, it } from "vitest";
import type { FlavorSnapshot, ImageSnapshot, Server } from "../../api/index.js";
import { desiredSshSecret, desiredVirtualMachine, hostnameOf, rootDiskSizeGiB, type VmBuildInput } from "./vm.js";

const SERVER_ID = "7f0c1c84-2b7e-4f7a-9a55-0f8f6a6c1d2e";

function server(spec: Partial<Server["spec"]> = {}, name = "web-1"): Server {
  return {
    apiVersion: "altostack.io/v1alpha1",
    kind: "Server",
    metadata: { name, namespace: "project-demo", uid: SERVER_ID, generation: 1 },
    spec: { flavorRef: "m1.small", imageRef: "cirros", ...spec },
  };
}

const SMALL: FlavorSnapshot = { name: "m1.small", vcpus: 1, ram: 2048, disk: 20 };
const CIRROS: ImageSnapshot = {
  ref: "cirros",
  id: "img-uid",
  name: "cirros",
  namespace: "project-demo",
  dataSource: "cirros.image",
  diskFormat: "qcow2",
  sizeGiB: 1,
};

function build(over: Partial<VmBuildInput> = {}): ReturnType<typeof desiredVirtualMachine> {
  return desiredVirtualMachine({
    server: server(),
    vmName: "web-1",
    flavor: SMALL,
    image: CIRROS,
    rootDisk: "web-1-root",
    sshSecret: undefined,
    networking: undefined,
    storage: {},
    ...over,
  });
}

const domainOf = (vm: ReturnType<typeof build>) => vm.spec.template.spec?.domain;

describe("flavor → VM", () => {
  it.each<[string, FlavorSnapshot, Record<string, unknown>]>([
    [
      "plain flavor: one socket per vCPU, guest memory and its request",
      { name: "m1.large", vcpus: 4, ram: 8192, disk: 80 },
      { cpu: { sockets: 4, cores: 1, threads: 1 }, memory: { guest: "8192Mi" }, resources: { requests: { memory: "8192Mi" } } },
    ],
    [
      "topology extra specs",
      { name: "t", vcpus: 8, ram: 1024, disk: 1, extraSpecs: { "hw:cpu_sockets": "2", "hw:cpu_threads": "2" } },
      { cpu: { sockets: 2, cores: 2, threads: 2 } },
    ],
    [
      "dedicated CPUs and 1 GiB hugepages",
      { name: "d", vcpus: 2, ram: 4096, disk: 1, extraSpecs: { "hw:cpu_policy": "dedicated", "hw:mem_page_size": "1GB" } },
      { cpu: { sockets: 2, cores: 1, threads: 1, dedicatedCpuPlacement: true }, memory: { guest: "4096Mi", hugepages: { pageSize: "1Gi" } } },
    ],
    [
      "invalid extra specs still give a usable plain topology",
      { name: "bad", vcpus: 3, ram: 512, disk: 1, extraSpecs: { "hw:cpu_sockets": "2" } },
      { cpu: { sockets: 3, cores: 1, threads: 1 } },
    ],
  ])("%s", (_name, flavor, expected) => {
    expect(domainOf(build({ flavor }))).toMatchObject(expected);
  });

  it("adds a virtio RNG for hw_rng:allowed", () => {
    const vm = build({ flavor: { ...SMALL, extraSpecs: { "hw_rng:allowed": "True" } } });
    expect(domainOf(vm)?.devices.rng).toEqual({});
    expect(domainOf(build())?.devices.rng).toBeUndefined();
  });

  it("gives ephemeral and swap disks as emptyDisks after the root disk", () => {
    const vm = build({ flavor: { ...SMALL, ephemeral: 10, swap: 512 } });
    expect(domainOf(vm)?.devices.disks?.map((d) => d.name)).toEqual(["root", "ephemeral0", "swap", "cloudinitdisk"]);
    expect(vm.spec.template.spec?.volumes).toEqual(
      expect.arrayContaining([
        { name: "ephemeral0", emptyDisk: { capacity: "10Gi" } },
        { name: "swap", emptyDisk: { capacity: "512Mi" } },
      ]),
    );
  });
});

describe("image → VM", () => {
  it("clones the root disk from the image's DataSource (possibly in another project) at the flavor's size", () => {
    const image = { ...CIRROS, namespace: "project-library", ref: "library/cirros" };
    const vm = build({ image, storage: { accessModes: ["ReadWriteMany"], storageClassName: "fast" } });
    expect(vm.spec.dataVolumeTemplates).toEqual([
      {
        metadata: { name: "web-1-root", labels: { "altostack.io/server": "web-1" } },
        spec: {
          sourceRef: { kind: "DataSource", name: "cirros.image", namespace: "project-library" },
          storage: { resources: { requests: { storage: "20Gi" } }, accessModes: ["ReadWriteMany"], storageClassName: "fast" },
        },
      },
    ]);
    expect(vm.spec.template.spec?.volumes?.[0]).toEqual({ name: "root", dataVolume: { name: "web-1-root" } });
    expect(domainOf(vm)?.devices.disks?.[0]).toEqual({ name: "root", disk: { bus: "virtio" }, bootOrder: 1 });
  });

  it.each<[string, FlavorSnapshot, ImageSnapshot, number | undefined]>([
    ["the flavor's disk", SMALL, CIRROS, 20],
    ["disk 0: the image's minimum", { ...SMALL, disk: 0 }, { ...CIRROS, minDisk: 8 }, 8],
    ["disk 0: the image volume's size", { ...SMALL, disk: 0 }, { ...CIRROS, sizeGiB: 3 }, 3],
    ["disk 0 and nothing known: CDI sizes the clone", { ...SMALL, disk: 0 }, { ...CIRROS, sizeGiB: undefined }, undefined],
  ])("root disk size: %s", (_name, flavor, image, size) => {
    expect(rootDiskSizeGiB(flavor, image)).toBe(size);
  });

  it.each<[string, Record<string, string>, Record<string, unknown>]>([
    ["BIOS by default; firmware.uuid is the server id", {}, { firmware: { uuid: SERVER_ID } }],
    ["hw_firmware_type=uefi → EFI", { hw_firmware_type: "uefi" }, { firmware: { uuid: SERVER_ID, bootloader: { efi: { secureBoot: false } } } }],
    [
      "os_secure_boot=required → secure boot with SMM",
      { hw_firmware_type: "uefi", os_secure_boot: "required" },
      { firmware: { bootloader: { efi: { secureBoot: true } } }, features: { smm: { enabled: true } } },
    ],
    ["hw_machine_type", { hw_machine_type: "q35" }, { machine: { type: "q35" } }],
    [
      "os_type=windows → Hyper-V enlightenments and Windows timers",
      { os_type: "windows" },
      { features: { hyperv: { relaxed: {}, vapic: {}, spinlocks: { spinlocks: 8191 } } }, clock: { utc: {} } },
    ],
  ])("%s", (_name, properties, expected) => {
    expect(domainOf(build({ image: { ...CIRROS, properties } }))).toMatchObject(expected);
  });

  it("puts the root disk on hw_disk_bus and the NIC on hw_vif_model", () => {
    const vm = build({ image: { ...CIRROS, properties: { hw_disk_bus: "scsi", hw_vif_model: "e1000e" } } });
    expect(domainOf(vm)?.devices.disks?.[0]?.disk).toEqual({ bus: "scsi" });
    expect(domainOf(vm)?.devices.interfaces).toEqual([{ name: "default", masquerade: {}, model: "e1000e" }]);
  });

  it("boots an ISO from a CD-ROM next to a blank root disk of the flavor's size", () => {
    const vm = build({ image: { ...CIRROS, diskFormat: "iso", sizeGiB: 2 } });
    expect(vm.spec.dataVolumeTemplates?.map((t) => [t.metadata?.name, t.spec.sourceRef?.name ?? Object.keys(t.spec.source ?? {})[0]])).toEqual([
      ["web-1-root-iso", "cirros.image"],
      ["web-1-root", "blank"],
    ]);
    expect(domainOf(vm)?.devices.disks?.slice(0, 2)).toEqual([
      { name: "cdrom", cdrom: { bus: "sata", readonly: true }, bootOrder: 1 },
      { name: "root", disk: { bus: "virtio" }, bootOrder: 2 },
    ]);
  });
});

describe("boot volume → VM", () => {
  const volumeBacked = server({ imageRef: undefined, bootVolume: { volumeRef: "root-vol" } });
  const noImage: ImageSnapshot = { ref: "", id: "", name: "", namespace: "project-demo", dataSource: "" };

  it.each<[string, Partial<VmBuildInput>, { templates: unknown; root: unknown; disk: unknown }]>([
    [
      "image-backed: the root disk is a DataVolume cloned for the VM",
      {},
      {
        templates: [expect.objectContaining({ metadata: expect.objectContaining({ name: "web-1-root" }) as unknown }) as unknown],
        root: { name: "root", dataVolume: { name: "web-1-root" } },
        disk: { name: "root", disk: { bus: "virtio" }, bootOrder: 1 },
      },
    ],
    [
      "volume-backed: the root disk is the volume's claim, and the VM owns no DataVolume",
      { server: volumeBacked, image: noImage, rootDisk: "root-vol.volume", bootVolumeClaim: "root-vol.volume" },
      {
        templates: undefined,
        root: { name: "root", persistentVolumeClaim: { claimName: "root-vol.volume" } },
        disk: { name: "root", disk: { bus: "virtio" }, bootOrder: 1 },
      },
    ],
    [
      "volume-backed with the source image's hw_disk_bus",
      { server: volumeBacked, image: { ...noImage, properties: { hw_disk_bus: "sata" } }, rootDisk: "root-vol.volume", bootVolumeClaim: "root-vol.volume" },
      {
        templates: undefined,
        root: { name: "root", persistentVolumeClaim: { claimName: "root-vol.volume" } },
        disk: { name: "root", disk: { bus: "sata" }, bootOrder: 1 },
      },
    ],
  ])("%s", (_name, over, expected) => {
    const vm = build(over);
    expect(vm.spec.dataVolumeTemplates).toEqual(expected.templates);
    expect(vm.spec.template.spec?.volumes?.find((v) => v.name === "root")).toEqual(expected.root);
    expect(domainOf(vm)?.devices.disks?.find((d) => d.name === "root")).toEqual(expected.disk);
  });

  it("keeps the config drive and attached data volumes next to a boot volume", () => {
    const vm = build({
      server: volumeBacked,
      image: noImage,
      rootDisk: "root-vol.volume",
      bootVolumeClaim: "root-vol.volume",
      dataVolumes: [{ name: "vol-data", claimName: "data.volume", hotpluggable: true }],
    });
    expect(vm.spec.template.spec?.volumes?.map((v) => v.name)).toEqual(["root", "cloudinitdisk", "vol-data"]);
  });
});

describe("keys and user data → config drive", () => {
  it("passes the SSH key through accessCredentials on the config drive", () => {
    const vm = build({ sshSecret: "web-1-ssh" });
    expect(vm.spec.template.spec?.accessCredentials).toEqual([
      { sshPublicKey: { source: { secret: { secretName: "web-1-ssh" } }, propagationMethod: { configDrive: {} } } },
    ]);
    expect(build().spec.template.spec?.accessCredentials).toBeUndefined();
  });

  it.each<[string, Partial<Server["spec"]>, Record<string, unknown>]>([
    ["plain user data", { userData: "#!/bin/sh\necho hi\n" }, { userData: "#!/bin/sh\necho hi\n" }],
    ["base64 user data", { userDataBase64: "I2Nsb3VkLWNvbmZpZwo=" }, { userDataBase64: "I2Nsb3VkLWNvbmZpZwo=" }],
    ["none: an empty cloud-config (KubeVirt needs some user data)", {}, { userData: "#cloud-config\n" }],
  ])("%s", (_name, spec, expected) => {
    const vm = build({ server: server(spec) });
    const drive = vm.spec.template.spec?.volumes?.find((v) => v.name === "cloudinitdisk");
    expect(drive?.cloudInitConfigDrive).toEqual(expected);
  });

  it("puts the networking's network_data.json on the config drive", () => {
    const networkData = { links: [{ id: "eth0", type: "phy" }], networks: [], services: [] };
    const vm = build({
      networking: {
        interfaces: [{ name: "net-a", bridge: {}, macAddress: "fa:16:3e:00:00:01" }],
        networks: [{ name: "net-a", multus: { networkName: "project-demo/net-a" } }],
        networkData,
      },
    });
    expect(vm.spec.template.spec?.networks).toEqual([{ name: "net-a", multus: { networkName: "project-demo/net-a" } }]);
    expect(domainOf(vm)?.devices.interfaces).toEqual([{ name: "net-a", bridge: {}, macAddress: "fa:16:3e:00:00:01" }]);
    const drive = vm.spec.template.spec?.volumes?.find((v) => v.name === "cloudinitdisk");
    expect(JSON.parse(drive?.cloudInitConfigDrive?.networkData ?? "null")).toEqual(networkData);
  });

  it("stores the key in the Secret KubeVirt reads", () => {
    const secret = desiredSshSecret(server(), "web-1-ssh", "ssh-ed25519 AAAA alice\n");
    expect(Buffer.from(secret.data?.key ?? "", "base64").toString()).toBe("ssh-ed25519 AAAA alice");
  });
});

describe("power states, placement, identity", () => {
  it.each([
    [undefined, "Always"],
    ["Active", "Always"],
    ["Paused", "Always"],
    ["Suspended", "Always"],
    ["Shutoff", "Halted"],
    ["Shelved", "Halted"],
  ] as const)("powerState %s → runStrategy %s", (powerState, strategy) => {
    expect(build({ server: server(powerState === undefined ? {} : { powerState }) }).spec.runStrategy).toBe(strategy);
  });

  it("pins the availability zone with required node affinity", () => {
    const affinity = build({ server: server({ availabilityZone: "az-2" }) }).spec.template.spec?.affinity;
    expect(affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["az-2"] }] },
    ]);
  });

  it.each([
    ["anti-affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"],
    ["affinity", "podAffinity", "requiredDuringSchedulingIgnoredDuringExecution"],
    ["soft-anti-affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution"],
    ["soft-affinity", "podAffinity", "preferredDuringSchedulingIgnoredDuringExecution"],
  ] as const)("server group %s → %s %s on the group label", (policy, kind, rule) => {
    const vm = build({ server: server({ serverGroup: { name: "db", policy } }) });
    const spec = vm.spec.template.spec;
    expect(vm.spec.template.metadata?.labels?.["altostack.io/server-group"]).toBe("db");
    const terms = spec?.affinity?.[kind]?.[rule] ?? [];
    expect(JSON.stringify(terms)).toContain('"altostack.io/server-group":"db"');
    expect(JSON.stringify(terms)).toContain("kubernetes.io/hostname");
  });

  it("derives a hostname from the OpenStack name as Nova sanitises it", () => {
    expect(hostnameOf(server({ name: "My Web Server #1" }))).toBe("my-web-server-1");
    expect(hostnameOf(server({ hostname: "explicit" }))).toBe("explicit");
    expect(build().spec.template.spec?.hostname).toBe("web-1");
  });

  it("labels the VM with the project and the server", () => {
    expect(build().metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "altostack",
      "altostack.io/server": "web-1",
      "altostack.io/project": "demo",
    });
  });
});

describe("attached data volumes → VM", () => {
  it("a hot-plugged volume is a hotpluggable PVC on the SCSI bus; one present at boot is a plain disk", () => {
    const vm = build({
      dataVolumes: [
        { name: "vol-data", claimName: "data.volume", hotpluggable: true },
        { name: "vol-logs", claimName: "logs.volume", hotpluggable: false },
      ],
    });
    const spec = vm.spec.template.spec;
    expect(spec?.volumes).toContainEqual({ name: "vol-data", persistentVolumeClaim: { claimName: "data.volume", hotpluggable: true } });
    expect(spec?.volumes).toContainEqual({ name: "vol-logs", persistentVolumeClaim: { claimName: "logs.volume" } });
    expect(spec?.domain.devices.disks).toContainEqual({ name: "vol-data", disk: { bus: "scsi" } });
    expect(spec?.domain.devices.disks).toContainEqual({ name: "vol-logs", disk: { bus: "virtio" } });
  });
  it("no data volumes: none added", () => {
    expect(build().spec.template.spec?.volumes?.some((v) => v.persistentVolumeClaim !== undefined)).toBe(false);
  });
});
