# Shared by up.sh and down.sh. K8S_DIR holds everything the cluster writes (state, logs, pids);
# K8S_BIN the Kubernetes binaries. Processes are started with nsenter --net (not `ip netns exec`,
# which remounts /sys and hides the cgroup mounts the kubelet needs) and stopped by their recorded pid.
: "${K8S_DIR:?}"
mkdir -p "$K8S_DIR/pids" "$K8S_DIR/logs"
start() { local name=$1 ns=$2; shift 2
  setsid nohup nsenter --net=/run/netns/$ns -- "$@" > "$K8S_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$K8S_DIR/pids/$name.pid"; }
# Stops a process by its recorded pid: SIGTERM, then SIGKILL after 15 s (kube-apiserver whose etcd is gone
# never finishes its graceful shutdown). Returns when it is gone.
stopp() { local f=$K8S_DIR/pids/$1.pid p i; [ -f $f ] || return 0; p=$(cat $f)
  if kill $p 2>/dev/null; then
    for i in $(seq 1 30); do kill -0 $p 2>/dev/null || break; sleep 0.5; done
    kill -0 $p 2>/dev/null && { echo "$1 ($p) did not stop after SIGTERM: SIGKILL"; kill -9 $p 2>/dev/null; sleep 0.5; }
  fi
  rm -f $f; }
running() { local f=$K8S_DIR/pids/$1.pid; [ -f $f ] && kill -0 $(cat $f) 2>/dev/null; }
export KUBECONFIG=$K8S_DIR/pki/admin.kubeconfig
k() { "$K8S_BIN/kubectl" "$@"; }
