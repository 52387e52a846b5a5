// Pure: what Glance image properties mean for the KubeVirt domain of a server booted from the image
// (Nova reads the same properties from the image when it builds the libvirt domain).

export const DISK_BUSES = ["virtio", "scsi", "sata"] as const;
export type DiskBus = (typeof DISK_BUSES)[number];
/** KubeVirt's interface models (Nova's hw_vif_model values that KubeVirt knows). */
export const NIC_MODELS = ["virtio", "e1000", "e1000e", "igb", "rtl8139", "pcnet", "ne2k_pci"] as const;

export interface ImageDomain {
  /** hw_firmware_type=uefi → EFI; otherwise BIOS. */
  firmware: "bios" | "uefi";
  /** os_secure_boot=required (UEFI only): secure boot with SMM. */
  secureBoot: boolean;
  /** hw_disk_bus: the root (and ephemeral) disks' bus. */
  diskBus: DiskBus;
  /** hw_cdrom_bus: an ISO image's CD-ROM bus. */
  cdromBus: "sata" | "scsi";
  /** hw_vif_model: the NIC model; undefined leaves KubeVirt's default (virtio). */
  nicModel: string | undefined;
  /** hw_machine_type, e.g. q35. */
  machineType: string | undefined;
  /** os_type=windows: Hyper-V enlightenments and a localtime-friendly clock, as Nova does for Windows guests. */
  windows: boolean;
  /** Properties with values that have no KubeVirt equivalent (named in conditions). */
  unsupported: string[];
}

/** The properties a server keeps in its image snapshot (everything that shapes the VM). */
export function domainProperties(properties: Readonly<Record<string, string>> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(properties).filter(([key]) => key.startsWith("hw_") || key.startsWith("os_")),
  );
}

export function interpretImageProperties(properties: Readonly<Record<string, string>> = {}): ImageDomain {
  const unsupported: string[] = [];
  const firmwareType = properties.hw_firmware_type?.toLowerCase();
  if (firmwareType !== undefined && firmwareType !== "uefi" && firmwareType !== "bios") {
    unsupported.push(`hw_firmware_type=${properties.hw_firmware_type ?? ""}`);
  }
  const firmware = firmwareType === "uefi" ? "uefi" : "bios";

  const secureBootValue = properties.os_secure_boot?.toLowerCase();
  const secureBoot = firmware === "uefi" && secureBootValue === "required";
  if (secureBootValue === "required" && firmware !== "uefi") unsupported.push("os_secure_boot=required without hw_firmware_type=uefi");

  const bus = properties.hw_disk_bus?.toLowerCase();
  let diskBus: DiskBus = "virtio";
  if (bus !== undefined) {
    if ((DISK_BUSES as readonly string[]).includes(bus)) diskBus = bus as DiskBus;
    else unsupported.push(`hw_disk_bus=${properties.hw_disk_bus ?? ""}`);
  }

  const cdrom = properties.hw_cdrom_bus?.toLowerCase();
  const cdromBus = cdrom === "scsi" ? "scsi" : "sata";
  if (cdrom !== undefined && cdrom !== "scsi" && cdrom !== "sata" && cdrom !== "ide") {
    unsupported.push(`hw_cdrom_bus=${properties.hw_cdrom_bus ?? ""}`);
  }

  const vif = properties.hw_vif_model?.toLowerCase();
  let nicModel: string | undefined;
  if (vif !== undefined) {
    if ((NIC_MODELS as readonly string[]).includes(vif)) nicModel = vif;
    else unsupported.push(`hw_vif_model=${properties.hw_vif_model ?? ""}`);
  }

  const machine = properties.hw_machine_type;
  const machineType = machine !== undefined && machine !== "" ? machine : undefined;

  return {
    firmware,
    secureBoot,
    diskBus,
    cdromBus,
    nicModel,
    machineType,
    windows: properties.os_type?.toLowerCase() === "windows",
    unsupported,
  };
}
