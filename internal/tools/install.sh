#!/usr/bin/env bash
# Installs the programs that provkit's tests and linters run.
#
# Go tools are built from the versions pinned in internal/tools/go.mod into
# ${PROVKIT_TOOLS_BIN:-$HOME/.cache/provkit/bin} as NAME-VERSION, with a
# stable symlink NAME. A binary already present for the pinned version is
# kept, so a second run does no build at all.
#
# Debian packages the tests use are installed with apt-get when missing.
#
# Environment:
#   PROVKIT_TOOLS_BIN   where binaries go (default $HOME/.cache/provkit/bin)
#   PROVKIT_SKIP_APT=1  do not install Debian packages
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="${PROVKIT_TOOLS_BIN:-$HOME/.cache/provkit/bin}"

# name | main package | module whose version names the binary | patch dir |
# tools module dir | extra -ldflags
#
# A patch dir (below internal/tools) holds files that replace the files at the
# same paths in the module's source for the build; the binary's name then
# ends in -patch.HASH of those files, so a change of patch rebuilds it.
# A tools module dir (below internal/tools) is used instead of
# internal/tools itself. Extra -ldflags are added to "-s -w"; {VERSION} in
# them stands for the module's version.
TOOLS=(
	"staticcheck|honnef.co/go/tools/cmd/staticcheck|honnef.co/go/tools"
	"crane|github.com/google/go-containerregistry/cmd/crane|github.com/google/go-containerregistry"
	"oras|oras.land/oras/cmd/oras|oras.land/oras"
	"olareg|github.com/olareg/olareg/cmd/olareg|github.com/olareg/olareg"
	"timestamp-server|github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server|github.com/sigstore/timestamp-authority/v2|_patches/timestamp-authority"
	"cosign|github.com/sigstore/cosign/v3/cmd/cosign|github.com/sigstore/cosign/v3"
	"fulcio|github.com/sigstore/fulcio|github.com/sigstore/fulcio||fulcio"
	"rekor-server|github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix|github.com/sigstore/rekor-tiles/v2||rekor"
	"apidiff|golang.org/x/exp/cmd/apidiff|golang.org/x/exp||apidiff"
	"kube-apiserver|k8s.io/kubernetes/cmd/kube-apiserver|k8s.io/kubernetes||kube-apiserver|-X k8s.io/component-base/version.gitVersion={VERSION}"
)

DEB_PACKAGES=(docker-registry softhsm2 graphviz postgresql etcd-server swtpm swtpm-tools
	chromium fonts-dejavu-core python3-rdflib)

# NPM_PACKAGES are installed below $BIN/node/NAME-VERSION; $BIN/node_modules
# links to the current one (tests set NODE_PATH to it).
NPM_PACKAGES=(ro-crate@3.7.2)

log() { printf 'install.sh: %s\n' "$*"; }

install_debs() {
	if [[ "${PROVKIT_SKIP_APT:-}" == 1 ]]; then
		log "Debian packages: skipped (PROVKIT_SKIP_APT=1)"
		return
	fi
	local missing=() p status
	for p in "${DEB_PACKAGES[@]}"; do
		status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
		if [[ "$status" != "install ok installed" ]]; then
			missing+=("$p")
		fi
	done
	if ((${#missing[@]} == 0)); then
		log "Debian packages: all present (${DEB_PACKAGES[*]})"
		return
	fi
	local sudo=()
	if [[ "$(id -u)" != 0 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo -n)
		else
			log "Debian packages missing (${missing[*]}) and not root: install them first" >&2
			exit 1
		fi
	fi
	log "Debian packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" </dev/null
	log "Debian packages: installed ${missing[*]}"
}

# patch_hash DIR prints a short hash of the files below DIR and their paths.
patch_hash() {
	(cd "$TOOLS_DIR/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-8
}

# patched_modfile MODULE DIR WORK copies MODULE's source to WORK/src,
# overwrites it with the files below DIR (same relative paths), and writes
# WORK/go.mod and WORK/go.sum: the tools module's, with MODULE replaced by
# WORK/src. (go build -overlay cannot replace files in the module cache.)
patched_modfile() {
	local mod="$1" dir="$TOOLS_DIR/$2" work="$3" moddir f
	go mod download "$mod"
	moddir="$(go list -mod=readonly -m -f '{{.Dir}}' "$mod")"
	[[ -n "$moddir" && -d "$moddir" ]] || {
		log "module $mod is not in the module cache" >&2
		exit 1
	}
	cp -R "$moddir" "$work/src"
	chmod -R u+w "$work/src"
	while IFS= read -r f; do
		f="${f#./}"
		[[ -f "$work/src/$f" ]] || {
			log "patch $2/$f: $mod has no file $f" >&2
			exit 1
		}
		cp "$dir/$f" "$work/src/$f"
	done < <(cd "$dir" && find . -type f | LC_ALL=C sort)
	cp "$TOOLS_DIR/go.mod" "$work/go.mod"
	cp "$TOOLS_DIR/go.sum" "$work/go.sum"
	go mod edit -modfile="$work/go.mod" -replace="$mod=$work/src"
}

install_go_tools() {
	if ! command -v go >/dev/null 2>&1; then
		log "go is not on PATH" >&2
		exit 1
	fi
	mkdir -p "$BIN"
	cd "$TOOLS_DIR"
	# The tools module is built on its own: no workspace, no vendoring,
	# go.mod and go.sum exactly as committed.
	export GOWORK=off

	local entry name pkg mod patch moddir ldextra versions=()
	for entry in "${TOOLS[@]}"; do
		IFS='|' read -r name pkg mod patch moddir ldextra <<<"$entry"
		versions+=("$(cd "$TOOLS_DIR/$moddir" && go list -mod=readonly -m -f '{{.Version}}' "$mod")")
	done
	if ((${#versions[@]} != ${#TOOLS[@]})); then
		log "could not read tool versions from $TOOLS_DIR" >&2
		exit 1
	fi

	local i ver target start work built=0 flags ldflags
	for i in "${!TOOLS[@]}"; do
		IFS='|' read -r name pkg mod patch moddir ldextra <<<"${TOOLS[$i]}"
		ver="${versions[$i]}"
		ldflags="-s -w${ldextra:+ ${ldextra//\{VERSION\}/$ver}}"
		cd "$TOOLS_DIR/$moddir"
		flags=()
		if [[ -n "$patch" ]]; then
			ver="$ver-patch.$(patch_hash "$patch")"
		fi
		target="$BIN/$name-$ver"
		if [[ -x "$target" ]]; then
			log "$name $ver: cached at $target"
		else
			log "$name $ver: building $pkg"
			start=$SECONDS
			rm -f "$target.tmp"
			work=""
			if [[ -n "$patch" ]]; then
				work="$(mktemp -d)"
				patched_modfile "$mod" "$patch" "$work"
				flags+=("-modfile=$work/go.mod")
			fi
			go build -mod=readonly -trimpath -ldflags="$ldflags" "${flags[@]}" -o "$target.tmp" "$pkg"
			if [[ -n "$work" ]]; then
				rm -rf "$work"
			fi
			mv -f "$target.tmp" "$target"
			built=$((built + 1))
			log "$name $ver: built in $((SECONDS - start)) s -> $target"
		fi
		ln -sfn "$name-$ver" "$BIN/$name"
	done
	log "Go tools: $built built, $((${#TOOLS[@]} - built)) cached, in $BIN"
}

install_npm() {
	local pkg dir
	for pkg in "${NPM_PACKAGES[@]}"; do
		dir="$BIN/node/${pkg/@/-}"
		if [[ -d "$dir/node_modules/${pkg%@*}" ]]; then
			log "npm $pkg: cached at $dir"
		else
			if ! command -v npm >/dev/null 2>&1; then
				log "npm is not on PATH: install Debian's npm first" >&2
				exit 1
			fi
			log "npm $pkg: installing"
			rm -rf "$dir.tmp"
			mkdir -p "$dir.tmp"
			npm install --silent --no-audit --no-fund --prefix "$dir.tmp" "$pkg" </dev/null
			rm -rf "$dir"
			mv "$dir.tmp" "$dir"
		fi
		ln -sfn "node/${pkg/@/-}/node_modules" "$BIN/node_modules"
	done
}

main() {
	local start=$SECONDS
	install_debs
	install_go_tools
	install_npm
	log "done in $((SECONDS - start)) s"
}

main "$@"
