#!/bin/bash
# Generate a minimal PKI + kubeconfigs for a 2-node test cluster (n1=10.200.0.1 control plane+worker, n2=10.200.0.2 worker).
set -euo pipefail
P=${P:?}
API=${API:-https://10.200.0.1:6443}
mkdir -p $P && cd $P
[ -f ca.key ] || { openssl genrsa -out ca.key 2048 2>/dev/null; openssl req -x509 -new -nodes -key ca.key -subj "/CN=kubernetes-ca" -days 3650 -out ca.crt; }
cert() { # name CN O [sans]
  local n=$1 cn=$2 o=$3 sans=${4:-}
  openssl genrsa -out $n.key 2048 2>/dev/null
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o/CN=$cn"
  openssl req -new -key $n.key -subj "$subj" -out $n.csr
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature,keyEncipherment";
    if [ -n "$sans" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$sans"; else echo "extendedKeyUsage=clientAuth"; fi; } > $n.ext
  openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile $n.ext -out $n.crt 2>/dev/null
  rm -f $n.csr $n.ext
}
cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:10.200.0.1,IP:127.0.0.1,IP:10.96.0.1"
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
cert admin kubernetes-admin system:masters
cert controller-manager system:kube-controller-manager ""
cert scheduler system:kube-scheduler ""
cert kube-proxy system:kube-proxy ""
for n in n1 n2; do cert kubelet-$n system:node:$n system:nodes; done
[ -f sa.key ] || { openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }
kc() { # file user
  cat > $1.kubeconfig <<EOC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    certificate-authority: $P/ca.crt
    server: $API
users:
- name: $2
  user:
    client-certificate: $P/$2.crt
    client-key: $P/$2.key
contexts:
- name: local
  context: {cluster: local, user: $2}
current-context: local
EOC
}
for u in admin controller-manager scheduler kube-proxy kubelet-n1 kubelet-n2; do kc $u $u; done
ls $P
