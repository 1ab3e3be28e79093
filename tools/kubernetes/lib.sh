# Shared by up.sh and down.sh. K8S_DIR holds everything the cluster writes (state, logs, pids);
# K8S_BIN the Kubernetes binaries. Processes are started with nsenter --net (not `ip netns exec`,
# which remounts /sys and hides the cgroup mounts the kubelet needs) and stopped by their recorded pid.
: "${K8S_DIR:?}"
mkdir -p "$K8S_DIR/pids" "$K8S_DIR/logs"
start() { local name=$1 ns=$2; shift 2
  setsid nohup nsenter --net=/run/netns/$ns -- "$@" > "$K8S_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$K8S_DIR/pids/$name.pid"; }
stopp() { local f=$K8S_DIR/pids/$1.pid; [ -f $f ] && kill $(cat $f) 2>/dev/null; rm -f $f; }
running() { local f=$K8S_DIR/pids/$1.pid; [ -f $f ] && kill -0 $(cat $f) 2>/dev/null; }
export KUBECONFIG=$K8S_DIR/pki/admin.kubeconfig
k() { "$K8S_BIN/kubectl" "$@"; }
