#!/bin/bash
# Brings up the 2-node test cluster (Kubernetes 1.34) in two network namespaces: k8s-n1 runs etcd, the control
# plane, a kubelet and kube-proxy; k8s-n2 a kubelet and kube-proxy. Idempotent: a cluster that answers is kept.
# Needs: K8S_DIR (state), K8S_BIN (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
# kubectl), K8S_IMAGES (image tarballs imported into both nodes), Debian's etcd, containerd, runc, CNI plugins.
# NetworkPolicy is enforced once firewall.sh starts (the bootstrap does, right after this).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"; P=$K8S_DIR/pki; B=$K8S_BIN
T0=$(date +%s); ts() { echo "[$(( $(date +%s) - T0 ))s] $*"; }
if running kube-apiserver && running kubelet-n1 && running kubelet-n2 && k get --raw=/readyz >/dev/null 2>&1; then echo "running already"; exit 0; fi
"$HERE/down.sh" >/dev/null 2>&1 || true
P=$P "$HERE/pki.sh" > /dev/null 2>&1
for n in 1 2; do K8S_DIR=$K8S_DIR "$HERE/node-config.sh" n$n 10.200.0.$n 10.244.$n.0/24 > /dev/null; done
"$HERE/net.sh"; ts "network namespaces, PKI, node configuration"
mkdir -p "$K8S_DIR/etcd-data"
start etcd k8s-n1 /usr/bin/etcd --name n1 --data-dir "$K8S_DIR/etcd-data" --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster n1=http://127.0.0.1:2380
# NodePorts: the service allocates resources' ports from 19000-29000 and uses them as node ports.
start kube-apiserver k8s-n1 $B/kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --advertise-address=10.200.0.1 --secure-port=6443 \
  --service-cluster-ip-range=10.96.0.0/12 --service-node-port-range=19000-32767 --client-ca-file=$P/ca.crt --tls-cert-file=$P/apiserver.crt --tls-private-key-file=$P/apiserver.key \
  --service-account-key-file=$P/sa.pub --service-account-signing-key-file=$P/sa.key --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --kubelet-client-certificate=$P/apiserver-kubelet-client.crt --kubelet-client-key=$P/apiserver-kubelet-client.key --kubelet-preferred-address-types=InternalIP
for i in 1 2; do start containerd-n$i k8s-n$i /usr/bin/containerd --config "$K8S_DIR/n$i/containerd.toml"; done
i=0; until k get --raw=/readyz >/dev/null 2>&1; do sleep 0.5; i=$((i+1)); [ $i -lt 240 ] || { echo "kube-apiserver not ready: see $K8S_DIR/logs" >&2; exit 1; }; done
ts "kube-apiserver ready"
start kube-controller-manager k8s-n1 $B/kube-controller-manager --kubeconfig=$P/controller-manager.kubeconfig --authentication-kubeconfig=$P/controller-manager.kubeconfig \
  --authorization-kubeconfig=$P/controller-manager.kubeconfig --bind-address=127.0.0.1 --cluster-signing-cert-file=$P/ca.crt --cluster-signing-key-file=$P/ca.key \
  --root-ca-file=$P/ca.crt --service-account-private-key-file=$P/sa.key --use-service-account-credentials=true --service-cluster-ip-range=10.96.0.0/12 \
  --allocate-node-cidrs=false --node-monitor-grace-period=20s --controllers='*,bootstrapsigner,tokencleaner'
start kube-scheduler k8s-n1 $B/kube-scheduler --kubeconfig=$P/scheduler.kubeconfig --authentication-kubeconfig=$P/scheduler.kubeconfig \
  --authorization-kubeconfig=$P/scheduler.kubeconfig --bind-address=127.0.0.1
for i in 1 2; do until [ -S "$K8S_DIR/n$i/containerd.sock" ]; do sleep 0.2; done; done
"$HERE/import-images.sh"; ts "images imported"
for i in 1 2; do
  start kubelet-n$i k8s-n$i $B/kubelet --config="$K8S_DIR/n$i/kubelet.yaml" --kubeconfig=$P/kubelet-n$i.kubeconfig --root-dir="$K8S_DIR/n$i/kubelet" \
    --hostname-override=n$i --node-ip=10.200.0.$i
  start kube-proxy-n$i k8s-n$i $B/kube-proxy --config="$K8S_DIR/n$i/kube-proxy.yaml"
done
i=0; until k wait --for=condition=Ready node/n1 node/n2 --timeout=60s >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 4 ] || { echo "nodes not Ready: see $K8S_DIR/logs" >&2; exit 1; }; sleep 2; done
ts "nodes Ready"
sed "s#/tmp/k8s#$K8S_DIR#g" "$HERE/local-path.yaml" | k apply -f "$HERE/coredns.yaml" -f - >/dev/null
k -n kube-system rollout status deploy/coredns --timeout=180s >/dev/null; k -n local-path-storage rollout status deploy/local-path-provisioner --timeout=180s >/dev/null
k annotate storageclass local-path storageclass.kubernetes.io/is-default-class=true --overwrite >/dev/null
ts "CoreDNS and the local-path StorageClass ready"
