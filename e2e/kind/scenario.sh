#!/usr/bin/env bash
# The facade's CLI scenario on the kind cluster from up.sh, with the real `openstack` CLI (hack/openstack-venv.sh):
# token issue, image create --file (CirrOS, uploaded through CDI), flavor, keypair, network/subnet/port, a security
# group rule, server create --wait → ACTIVE, volume create + server add volume → in-use, then an SSH login into
# the VM from the node (which gets an address on the tenant VLAN of bridge br1). Exits non-zero on the first failure.
#
# Env: CLUSTER_NAME (altostack-e2e), ALTOSTACK_ADMIN_PASSWORD (e2e-admin, as up.sh), BOOT_TIMEOUT (900 s: software
#      emulation boots slowly), KEEP=1 (leave the scenario's resources in place).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BOOT_TIMEOUT="${BOOT_TIMEOUT:-900}"
PREFIX=e2e
SUBNET_CIDR=192.168.77.0/24
VM_IP=192.168.77.10
PROBE_IP=192.168.77.254

require_tools docker kubectl curl
kubectl config use-context "kind-$CLUSTER_NAME" >/dev/null

OSC_BIN="$(bash "$REPO/hack/openstack-venv.sh")"
openstack() { "$OSC_BIN/openstack" "$@"; }
# Waits until `$@` prints $expected (or BOOT_TIMEOUT passes).
wait_for() {
  local expected="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + BOOT_TIMEOUT)) value=""
  while ((SECONDS < deadline)); do
    value="$("$@" 2>/dev/null || true)"
    [[ "$value" == "$expected" ]] && return 0
    sleep 5
  done
  die "$what: still '$value' after ${BOOT_TIMEOUT}s (expected '$expected')"
}

workdir="$(mktemp -d)"
forward_pid=""
cleanup() {
  [[ -n "$forward_pid" ]] && kill "$forward_pid" 2>/dev/null
  rm -rf "$workdir"
}
trap cleanup EXIT

log "port-forward the facade to 127.0.0.1:5000 (the chart's facade.publicUrl)"
kubectl -n "$NAMESPACE" port-forward service/altostack-facade 5000:5000 >"$workdir/port-forward.log" 2>&1 &
forward_pid=$!
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null http://127.0.0.1:5000/identity/v3 && break
  sleep 1
done
curl -fsS -o /dev/null http://127.0.0.1:5000/identity/v3 || die "the facade does not answer (see $workdir/port-forward.log)"

export OS_AUTH_URL=http://127.0.0.1:5000/identity OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne
export OS_USERNAME=admin OS_PASSWORD="${ALTOSTACK_ADMIN_PASSWORD:-e2e-admin}" OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default

log "token issue"
openstack token issue -f value -c expires

log "image create --file CirrOS $CIRROS_VERSION"
cirros="$workdir/cirros.img"
curl -fsSL -o "$cirros" "https://download.cirros-cloud.net/$CIRROS_VERSION/cirros-$CIRROS_VERSION-x86_64-disk.img"
openstack image create "$PREFIX-cirros" --file "$cirros" --disk-format qcow2 --container-format bare --min-disk 1
wait_for active "image $PREFIX-cirros" openstack image show "$PREFIX-cirros" -f value -c status

log "flavor, keypair"
openstack flavor create "$PREFIX.tiny" --vcpus 1 --ram 256 --disk 1
ssh-keygen -q -t ed25519 -N "" -f "$workdir/id_e2e"
openstack keypair create "$PREFIX-key" --public-key "$workdir/id_e2e.pub"

log "network, subnet, port, security group rule"
openstack network create "$PREFIX-net"
openstack subnet create "$PREFIX-subnet" --network "$PREFIX-net" --subnet-range "$SUBNET_CIDR" --gateway none
openstack port create "$PREFIX-port" --network "$PREFIX-net" --fixed-ip "subnet=$PREFIX-subnet,ip-address=$VM_IP"
openstack security group rule create default --ingress --protocol tcp --dst-port 22 --remote-ip 0.0.0.0/0

log "server create --wait"
openstack server create "$PREFIX-vm" --flavor "$PREFIX.tiny" --image "$PREFIX-cirros" --key-name "$PREFIX-key" \
  --port "$PREFIX-port" --wait
[[ "$(openstack server show "$PREFIX-vm" -f value -c status)" == ACTIVE ]] || die "server $PREFIX-vm is not ACTIVE"

log "volume create, server add volume"
openstack volume create "$PREFIX-vol" --size 1
wait_for available "volume $PREFIX-vol" openstack volume show "$PREFIX-vol" -f value -c status
openstack server add volume "$PREFIX-vm" "$PREFIX-vol"
wait_for in-use "volume $PREFIX-vol" openstack volume show "$PREFIX-vol" -f value -c status

log "SSH login into the VM from $NODE over the tenant VLAN"
vlan="$(openstack network show "$PREFIX-net" -f value -c provider:segmentation_id)"
[[ "$vlan" =~ ^[0-9]+$ ]] || die "network $PREFIX-net has no VLAN id ('$vlan')"
docker cp "$workdir/id_e2e" "$NODE:/root/id_e2e"
docker exec "$NODE" bash -euo pipefail -c "
  chmod 600 /root/id_e2e
  ovs-vsctl --may-exist add-port br1 e2e-probe tag=$vlan -- set interface e2e-probe type=internal
  ip addr replace $PROBE_IP/24 dev e2e-probe
  ip link set e2e-probe up"
ssh_login() {
  docker exec "$NODE" ssh -i /root/id_e2e -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=5 -o BatchMode=yes "cirros@$VM_IP" 'echo logged-in-as-$(id -un)'
}
wait_for logged-in-as-cirros "SSH login to $VM_IP" ssh_login
printf '\nscenario passed: the VM is ACTIVE, its volume in-use, and SSH login works\n' >&2

if [[ "${KEEP:-}" != 1 ]]; then
  log "cleaning up"
  docker exec "$NODE" ovs-vsctl --if-exists del-port br1 e2e-probe
  openstack server remove volume "$PREFIX-vm" "$PREFIX-vol"
  openstack server delete "$PREFIX-vm" --wait
  openstack volume delete "$PREFIX-vol"
  openstack port delete "$PREFIX-port"
  openstack subnet delete "$PREFIX-subnet"
  openstack network delete "$PREFIX-net"
  openstack keypair delete "$PREFIX-key"
  openstack flavor delete "$PREFIX.tiny"
  openstack image delete "$PREFIX-cirros"
fi
