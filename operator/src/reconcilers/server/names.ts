// Every name the compute reconcilers give the objects they create, in one place. Names derive from the
// owner's name; when that does not fit the target's naming rules, a readable prefix plus a hash of the
// whole name keeps it unique and stable.
import { createHash } from "node:crypto";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}

/**
 * `name` when it is a DNS-1123 label of at most `max` characters, else a label made of its sanitised
 * start and a hash of the whole: stable, unique, and still recognisable.
 */
export function boundedLabel(name: string, max = 63): string {
  if (name.length <= max && DNS1123_LABEL.test(name)) return name;
  const hash = shortHash(name);
  const stem = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, max - hash.length - 1)
    .replace(/-+$/, "");
  return stem === "" ? `x${hash}` : `${stem}-${hash}`;
}

/** A label value for any string (label values: at most 63 characters of a restricted set). */
export function labelValue(text: string): string {
  if (text.length <= 63 && LABEL_VALUE.test(text)) return text;
  return boundedLabel(text);
}

/**
 * The VirtualMachine of a server. KubeVirt uses it as the VMI and hostname base, so it must be a
 * DNS-1123 label; server names (subdomains, up to 253) that are not get a hashed form.
 */
export function vmNameOf(serverName: string): string {
  return boundedLabel(serverName);
}

/** The root disk's DataVolume: `<vm>-root` at first, `<vm>-root-<n>` after the n-th rebuild. */
export function rootDiskName(vmName: string, rebuild = 0): string {
  return rebuild === 0 ? `${vmName}-root` : `${vmName}-root-${rebuild}`;
}

/** The root disk name that replaces `current` on a rebuild. */
export function nextRootDiskName(vmName: string, current: string | undefined): string {
  const match = current === undefined ? null : /-root(?:-(\d+))?$/.exec(current);
  const generation = match === null ? 0 : Number(match[1] ?? "0");
  return rootDiskName(vmName, generation + 1);
}

/** An ISO image is attached as a CD-ROM from its own DataVolume next to a blank root disk. */
export function isoDiskName(rootDisk: string): string {
  return `${rootDisk}-iso`;
}

/** The Secret holding the server's SSH public key for the config drive. */
export function sshSecretName(vmName: string): string {
  return `${vmName}-ssh`;
}

/**
 * The DataVolume, PVC and DataSource of an image (all share the name). The `.image` suffix has a dot, which
 * VM names (labels) never have, so an image's volume can never take a server disk's name.
 */
export function imageVolumeName(imageName: string): string {
  const name = `${imageName}.image`;
  return name.length <= 253 ? name : `${boundedLabel(imageName)}.image`;
}

/** Role and RoleBinding that let other projects clone an image's volume (CDI's datavolumes/source). */
export function imageCloneRbacName(imageName: string): string {
  return `altostack:image-clone:${imageVolumeName(imageName)}`;
}

/** The VolumeSnapshot of a server's root disk that a createImage image is made from. */
export function imageSnapshotName(imageName: string): string {
  return imageVolumeName(imageName);
}

/** The Image a createImage ServerAction creates (its metadata.name; the OpenStack name is the action's imageName). */
export function snapshotImageName(serverName: string, actionUid: string): string {
  return boundedLabel(`${serverName}-snapshot-${actionUid.slice(0, 8)}`);
}

/** The VirtualMachineInstanceMigration of a migrate/liveMigrate ServerAction. */
export function migrationName(actionName: string): string {
  return boundedLabel(actionName);
}
