// Facade configuration, from flags and environment, validated at the edge.
import { parseArgs } from "node:util";
import { z } from "zod";

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(55);

export const volumeTypeSchema = z.object({
  name: z.string().min(1).max(255),
  description: z.string().max(255).optional(),
  /** The StorageClass volumes of this type use; the cluster default when unset. */
  storageClass: z.string().min(1).max(253).optional(),
  /** The VolumeSnapshotClass snapshots of this type's volumes use; the driver's default class when unset. */
  snapshotClass: z.string().min(1).max(253).optional(),
});
export type VolumeTypeConfig = z.infer<typeof volumeTypeSchema>;

export const facadeConfigSchema = z.object({
  kubeconfig: z.string().optional(),
  host: z.string().min(1),
  port: z.int().min(0).max(65535),
  /** The URL clients reach the facade at (no trailing slash); default http://<host>:<port>. */
  publicUrl: z
    .url()
    .transform((u) => u.replace(/\/+$/, ""))
    .optional(),
  region: z.string().min(1).max(255),
  /** Namespace of the token key Secret. */
  systemNamespace: dnsLabel,
  /** Keystone user bootstrapped as cloud admin (created when adminPassword is set). */
  adminUser: dnsLabel,
  adminPassword: z.string().min(1).optional(),
  /** The project whose admins are cloud admins. */
  adminProject: dnsLabel,
  tokenTtlSeconds: z.int().min(60).max(7 * 24 * 3600),
  volumeTypes: z.array(volumeTypeSchema).min(1),
  /** Image data: CDI's upload proxy (https://cdi-uploadproxy.cdi.svc), and the CA its certificate is signed by. */
  cdiUploadProxyUrl: z
    .url()
    .regex(/^https?:\/\//)
    .transform((u) => u.replace(/\/+$/, ""))
    .optional(),
  cdiUploadProxyCaFile: z.string().min(1).optional(),
  /** Glance's image_size_cap: larger uploads are refused with 413. Default 1 TiB, as Glance's. */
  imageSizeCapBytes: z.int().min(1).max(2 ** 52),
  /** How long an upload waits for the image's volume to accept data before answering 503. */
  uploadReadyTimeoutSeconds: z.int().min(1).max(3600),
});
export type FacadeConfig = z.infer<typeof facadeConfigSchema>;

/** Cinder's name for the type volumes get when none is asked for. */
export const DEFAULT_VOLUME_TYPE = "__DEFAULT__";

/**
 * `name[=storageClass[:snapshotClass]]` → a volume type (class names are DNS subdomains: never a `:`).
 * Shape errors are left to the zod schema.
 */
export function parseVolumeType(text: string): VolumeTypeConfig {
  const [name = "", classes = ""] = text.split("=", 2);
  const [storageClass = "", snapshotClass = ""] = classes.split(":", 2);
  return { name, ...(storageClass === "" ? {} : { storageClass }), ...(snapshotClass === "" ? {} : { snapshotClass }) };
}

export function loadFacadeConfig(argv: string[], env: Readonly<Record<string, string | undefined>>): FacadeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "public-url": { type: "string" },
      region: { type: "string" },
      "system-namespace": { type: "string" },
      "admin-user": { type: "string" },
      "admin-project": { type: "string" },
      "token-ttl": { type: "string" },
      "volume-type": { type: "string", multiple: true },
      "cdi-upload-proxy-url": { type: "string" },
      "cdi-upload-proxy-ca": { type: "string" },
      "image-size-cap": { type: "string" },
      "upload-ready-timeout": { type: "string" },
    },
    strict: true,
  });
  const volumeTypes = values["volume-type"] ?? env.ALTOSTACK_VOLUME_TYPES?.split(",").filter((s) => s !== "");
  const result = facadeConfigSchema.safeParse({
    kubeconfig: values.kubeconfig ?? env.ALTOSTACK_KUBECONFIG,
    host: values.host ?? env.ALTOSTACK_FACADE_HOST ?? "0.0.0.0",
    port: Number(values.port ?? env.ALTOSTACK_FACADE_PORT ?? 5000),
    publicUrl: values["public-url"] ?? env.ALTOSTACK_FACADE_PUBLIC_URL,
    region: values.region ?? env.ALTOSTACK_REGION ?? "RegionOne",
    systemNamespace: values["system-namespace"] ?? env.POD_NAMESPACE ?? "altostack-system",
    adminUser: values["admin-user"] ?? env.ALTOSTACK_ADMIN_USER ?? "admin",
    // Only from the environment (or a Secret mounted into it): never a command-line flag that `ps` shows.
    adminPassword: env.ALTOSTACK_ADMIN_PASSWORD === "" ? undefined : env.ALTOSTACK_ADMIN_PASSWORD,
    adminProject: values["admin-project"] ?? env.ALTOSTACK_ADMIN_PROJECT ?? "admin",
    tokenTtlSeconds: Number(values["token-ttl"] ?? env.ALTOSTACK_TOKEN_TTL ?? 3600),
    cdiUploadProxyUrl: values["cdi-upload-proxy-url"] ?? env.ALTOSTACK_CDI_UPLOAD_PROXY_URL,
    cdiUploadProxyCaFile: values["cdi-upload-proxy-ca"] ?? env.ALTOSTACK_CDI_UPLOAD_PROXY_CA,
    imageSizeCapBytes: Number(values["image-size-cap"] ?? env.ALTOSTACK_IMAGE_SIZE_CAP ?? 2 ** 40),
    uploadReadyTimeoutSeconds: Number(values["upload-ready-timeout"] ?? env.ALTOSTACK_UPLOAD_READY_TIMEOUT ?? 120),
    volumeTypes: volumeTypes === undefined || volumeTypes.length === 0 ? [{ name: DEFAULT_VOLUME_TYPE, description: "Default Volume Type" }] : volumeTypes.map(parseVolumeType),
  });
  if (!result.success) throw new Error(`invalid facade configuration: ${z.prettifyError(result.error)}`);
  return result.data;
}
