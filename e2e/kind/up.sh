#!/usr/bin/env bash
# Creates a kind cluster with everything Altostack drives — KubeVirt (software emulation when the host has no
# /dev/kvm), CDI, Multus, OVS-CNI (bridge br1 on the node), the CSI hostpath driver with the snapshot controller
# and a VolumeSnapshotClass — then builds the operator image, loads it into kind and `helm install`s the chart.
# Needs Docker, kind, kubectl, helm, curl and the host's openvswitch kernel module. See README.md.
#
# Env: CLUSTER_NAME (altostack-e2e), ALTOSTACK_IMAGE (altostack:e2e), ALTOSTACK_DOCKERFILE (operator/Dockerfile,
#      built from the repository root), ALTOSTACK_ADMIN_PASSWORD (e2e-admin), SKIP_BUILD=1 (ALTOSTACK_IMAGE exists
#      in the local Docker already and is only loaded into kind).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGE="${ALTOSTACK_IMAGE:-altostack:e2e}"
DOCKERFILE="${ALTOSTACK_DOCKERFILE:-$REPO/operator/Dockerfile}"
ADMIN_PASSWORD="${ALTOSTACK_ADMIN_PASSWORD:-e2e-admin}"
GITHUB=https://github.com

require_tools docker kind kubectl helm curl
docker info >/dev/null 2>&1 || die "no Docker engine reachable (docker info failed)"
[[ -d /sys/module/openvswitch ]] || die "the host's openvswitch kernel module is not loaded: run 'sudo modprobe openvswitch'"
[[ -f "$DOCKERFILE" || "${SKIP_BUILD:-}" == 1 ]] || die "no Dockerfile at $DOCKERFILE (set ALTOSTACK_DOCKERFILE, or SKIP_BUILD=1)"

log "kind cluster $CLUSTER_NAME ($KIND_NODE_IMAGE)"
if kind get clusters | grep -qx "$CLUSTER_NAME"; then
  log "cluster exists, reusing it"
else
  kind create cluster --name "$CLUSTER_NAME" --image "$KIND_NODE_IMAGE" --config "$HERE/cluster.yaml" --wait 5m
fi
kubectl config use-context "kind-$CLUSTER_NAME" >/dev/null

log "Open vSwitch and bridge br1 on $NODE (the operator's default physnet1:br1)"
docker exec "$NODE" bash -euo pipefail -c '
  if ! command -v ovs-vsctl >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openvswitch-switch openssh-client >/dev/null
  fi
  systemctl enable --now openvswitch-switch >/dev/null
  ovs-vsctl --may-exist add-br br1
  ip link set br1 up'

log "KubeVirt $KUBEVIRT_VERSION"
kubectl apply -f "$GITHUB/kubevirt/kubevirt/releases/download/$KUBEVIRT_VERSION/kubevirt-operator.yaml"
kubectl apply -f "$GITHUB/kubevirt/kubevirt/releases/download/$KUBEVIRT_VERSION/kubevirt-cr.yaml"
if [[ ! -e /dev/kvm ]]; then
  log "no /dev/kvm: KubeVirt runs guests in software emulation (slow, but CirrOS boots)"
  kubectl -n kubevirt patch kubevirt kubevirt --type=merge \
    -p '{"spec":{"configuration":{"developerConfiguration":{"useEmulation":true}}}}'
fi

log "CDI $CDI_VERSION"
kubectl apply -f "$GITHUB/kubevirt/containerized-data-importer/releases/download/$CDI_VERSION/cdi-operator.yaml"
kubectl apply -f "$GITHUB/kubevirt/containerized-data-importer/releases/download/$CDI_VERSION/cdi-cr.yaml"

log "Multus $MULTUS_VERSION (thick plugin)"
curl -fsSL "https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/$MULTUS_VERSION/deployments/multus-daemonset-thick.yml" |
  sed -E "s#(ghcr.io/k8snetworkplumbingwg/multus-cni):[a-z0-9.-]+#\1:$MULTUS_VERSION-thick#" |
  kubectl apply -f -

log "OVS-CNI $OVS_CNI_VERSION"
curl -fsSL "https://raw.githubusercontent.com/k8snetworkplumbingwg/ovs-cni/$OVS_CNI_VERSION/examples/ovs-cni.yml" |
  sed -E "s#(quay.io/kubevirt|ghcr.io/k8snetworkplumbingwg)/ovs-cni-plugin:[a-z0-9.-]+#ghcr.io/k8snetworkplumbingwg/ovs-cni-plugin:$OVS_CNI_VERSION#" |
  kubectl apply -f -

log "external-snapshotter $EXTERNAL_SNAPSHOTTER_VERSION (CRDs and snapshot controller)"
kubectl apply -k "$GITHUB/kubernetes-csi/external-snapshotter/client/config/crd?ref=$EXTERNAL_SNAPSHOTTER_VERSION"
kubectl apply -k "$GITHUB/kubernetes-csi/external-snapshotter/deploy/kubernetes/snapshot-controller?ref=$EXTERNAL_SNAPSHOTTER_VERSION"

log "CSI hostpath driver $CSI_HOSTPATH_VERSION (default StorageClass, VolumeSnapshotClass)"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
curl -fsSL "$GITHUB/kubernetes-csi/csi-driver-host-path/archive/refs/tags/$CSI_HOSTPATH_VERSION.tar.gz" | tar -xz -C "$workdir"
hostpath_dir="$workdir/csi-driver-host-path-${CSI_HOSTPATH_VERSION#v}"
"$hostpath_dir/deploy/kubernetes-latest/deploy.sh"
kubectl apply -f "$hostpath_dir/examples/csi-storageclass.yaml"
kubectl apply -f "$hostpath_dir/deploy/kubernetes-latest/hostpath/csi-hostpath-snapshotclass.yaml"
# Only one default StorageClass: kind's own "standard" (no snapshots, no expansion) steps down.
kubectl annotate storageclass standard storageclass.kubernetes.io/is-default-class=false --overwrite
kubectl annotate storageclass csi-hostpath-sc storageclass.kubernetes.io/is-default-class=true --overwrite
kubectl patch storageclass csi-hostpath-sc --type=merge -p '{"allowVolumeExpansion":true}'

log "waiting for KubeVirt and CDI"
kubectl -n kubevirt wait kubevirt/kubevirt --for=condition=Available --timeout=20m
kubectl wait cdi/cdi --for=condition=Available --timeout=10m
kubectl -n kube-system rollout status daemonset/kube-multus-ds --timeout=5m
kubectl -n kube-system rollout status daemonset/ovs-cni-amd64 --timeout=5m

if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  log "building $IMAGE from $DOCKERFILE"
  docker build -t "$IMAGE" -f "$DOCKERFILE" "$REPO"
fi
kind load docker-image "$IMAGE" --name "$CLUSTER_NAME"

log "helm install altostack"
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
# The facade checks CDI upload-proxy certificates against CDI's own signer bundle.
kubectl -n cdi get configmap cdi-uploadproxy-signer-bundle -o jsonpath='{.data.ca-bundle\.crt}' >"$workdir/cdi-ca.crt"
kubectl -n "$NAMESPACE" create configmap cdi-uploadproxy-ca --from-file=ca-bundle.crt="$workdir/cdi-ca.crt" \
  --dry-run=client -o yaml | kubectl apply -f -
helm upgrade --install altostack "$REPO/charts/altostack" --namespace "$NAMESPACE" --wait --timeout 10m \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --set facade.admin.password="$ADMIN_PASSWORD" \
  --set facade.publicUrl=http://127.0.0.1:5000 \
  --set facade.images.cdiUploadProxyCaConfigMap=cdi-uploadproxy-ca

log "ready: run $HERE/scenario.sh (it port-forwards the facade to 127.0.0.1:5000)"
