#!/usr/bin/env bash
# Builds the pinned upstream tools of go.mod into a cache outside the repo,
# keyed by the hash of this directory's inputs, so a second run builds nothing.
# Prints one line per tool: NAME<TAB>ABSOLUTE_PATH<TAB>VERSION.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
# The checksum database has no record of some k8s.io/kubernetes releases; go.sum,
# committed beside go.mod, still pins every module's hash.
export GONOSUMDB=${GONOSUMDB:-k8s.io/kubernetes}

key=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-16)
out=${CAPY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/capy/tools}/$key
mkdir -p "$out/bin"

modver() { go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1"; }
k8s=$(modver k8s.io/kubernetes)
capi=$(modver sigs.k8s.io/cluster-api)
etcd=$(modver go.etcd.io/etcd/server/v3)

k8s_ldflags() {
  local minor; minor=$(echo "$k8s" | cut -d. -f2)
  local f="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f="$f -X $p.gitVersion=$k8s -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    f="$f -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$f"
}
capi_ldflags() {
  local p=sigs.k8s.io/cluster-api/version
  echo "-s -w -X $p.gitVersion=$capi -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$capi" | cut -d. -f2) -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
}

# name  package  version  ldflags-function
tools=(
  "etcd go.etcd.io/etcd/server/v3 $etcd"
  "kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver $k8s"
  "kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager $k8s"
  "kubectl k8s.io/kubernetes/cmd/kubectl $k8s"
  "kubeadm k8s.io/kubernetes/cmd/kubeadm $k8s"
  "capi-manager sigs.k8s.io/cluster-api/core $capi"
  "capi-kcp-manager sigs.k8s.io/cluster-api/controlplane/kubeadm $capi"
  "capi-cabpk-manager sigs.k8s.io/cluster-api/bootstrap/kubeadm $capi"
  "clusterctl sigs.k8s.io/cluster-api/cmd/clusterctl $capi"
)

for t in "${tools[@]}"; do
  read -r name pkg ver <<<"$t"
  bin=$out/bin/$name
  [ -x "$bin" ] && continue
  case "$pkg" in
    k8s.io/*) ldf=$(k8s_ldflags) ;;
    sigs.k8s.io/*) ldf=$(capi_ldflags) ;;
    *) ldf="-s -w" ;;
  esac
  echo "building $name $ver" >&2
  start=$(date +%s)
  go build -trimpath -ldflags "$ldf" -o "$bin.tmp" "$pkg"
  mv "$bin.tmp" "$bin"
  echo "built $name in $(( $(date +%s) - start ))s" >&2
done

# Sources the harness reads at run time (CRDs, webhook manifests) live in the module cache.
printf 'capi-source\t%s\t%s\n' "$(go list -m -f '{{.Dir}}' sigs.k8s.io/cluster-api)" "$capi"
for t in "${tools[@]}"; do
  read -r name pkg ver <<<"$t"
  printf '%s\t%s\t%s\n' "$name" "$out/bin/$name" "$ver"
done
