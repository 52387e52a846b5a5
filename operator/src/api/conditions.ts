// Condition types and reasons users see in `kubectl describe` and that Argo CD/Flux read for health.
// Reasons are documented constants so tooling can match them; messages are for humans.

export const ConditionType = {
  /** The object is fully realised and usable. Every kind sets it. */
  Ready: "Ready",
  /** The object is being deleted and waits for something (children, or a user decision). */
  Deleting: "Deleting",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  // Generic
  Reconciled: "Reconciled",
  Progressing: "Progressing",
  InvalidSpec: "InvalidSpec",
  DependencyNotFound: "DependencyNotFound",
  DependencyNotReady: "DependencyNotReady",
  QuotaExceeded: "QuotaExceeded",
  ReconcileError: "ReconcileError",
  WaitingForChildren: "WaitingForChildren",
  // Project
  NamespaceConflict: "NamespaceConflict",
  DeletionBlocked: "DeletionBlocked",
  CascadeDeleting: "CascadeDeleting",
  // Networking (Neutron's error types where Neutron has one)
  IpAddressGenerationFailure: "IpAddressGenerationFailure",
  IpAddressAlreadyAllocated: "IpAddressAlreadyAllocated",
  MacAddressInUse: "MacAddressInUse",
  NetworkInUse: "NetworkInUse",
  SubnetInUse: "SubnetInUse",
  PortInUse: "PortInUse",
  NoNetworkAvailable: "NoNetworkAvailable",
  VlanIdInUse: "VlanIdInUse",
  FlatNetworkInUse: "FlatNetworkInUse",
  /**
   * A network set to `shared: false` while other projects still have ports on it (Neutron's
   * InvalidSharedSetting): their ports keep working, new ones are refused; the message names the projects.
   */
  SharingInUse: "SharingInUse",
  OverlappingSubnet: "OverlappingSubnet",
  InvalidAllocationPool: "InvalidAllocationPool",
  GatewayConflictWithAllocationPools: "GatewayConflictWithAllocationPools",
  /** A security group whose rules MultiNetworkPolicy cannot express in full (the message names them). */
  PartiallyEnforced: "PartiallyEnforced",
  // Compute (servers, images, actions)
  /** The server is in Nova's ERROR state; the message is its fault. */
  ServerError: "ServerError",
  /** Something the spec asks for that this version cannot do yet (the message says what). */
  NotSupported: "NotSupported",
  /** An image whose data could not be imported (Glance status killed). */
  ImportFailed: "ImportFailed",
  ActionPending: "ActionPending",
  ActionRunning: "ActionRunning",
  ActionSucceeded: "ActionSucceeded",
  ActionFailed: "ActionFailed",
  // Block storage (Cinder's fault names where Cinder has one)
  /** A volume that is attached cannot be deleted (Cinder's VolumeIsBusy). */
  VolumeIsBusy: "VolumeIsBusy",
  /** A volume with snapshots is deleted only when asked to cascade. */
  VolumeHasSnapshots: "VolumeHasSnapshots",
  /** The volume's storage could not be provisioned (Cinder status error). */
  ProvisioningFailed: "ProvisioningFailed",
  // Containers
  /** The container's Pod failed: an image that cannot be pulled, a container that exits or crashes (the message says which). */
  ContainerError: "ContainerError",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Finalizers, one per controller that must clean up before an object goes. */
export const Finalizer = {
  project: "altostack.io/project",
  server: "altostack.io/server",
  image: "altostack.io/image",
  network: "altostack.io/network",
  subnet: "altostack.io/subnet",
  port: "altostack.io/port",
  volume: "altostack.io/volume",
  container: "altostack.io/container",
} as const;
