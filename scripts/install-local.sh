#!/usr/bin/env bash
# install-local.sh - install this build of the provider where Terraform and
# OpenTofu find it without a registry, and the KooPhone emulator (make install-local).
#
# 1. The provider goes into the implied local mirror of Terraform and OpenTofu
#    (the directory both search before any registry, with no CLI configuration):
#
#      $HOME/.terraform.d/plugins/registry.terraform.io/koophone/koophone/VERSION/OS_ARCH/terraform-provider-koophone_vVERSION
#      $HOME/.terraform.d/plugins/registry.opentofu.org/koophone/koophone/VERSION/OS_ARCH/terraform-provider-koophone_vVERSION
#
#    so that a configuration with the usual
#      required_providers { koophone = { source = "koophone/koophone" } }
#    and a plain `terraform init` (or `tofu init`) installs it, offline, and the
#    same configuration works unchanged once the provider is on the registries.
#    While the provider is in this directory, Terraform installs
#    koophone/koophone from it only, never from the registry: remove
#    $HOME/.terraform.d/plugins/registry.*/koophone to go back to the registry.
#
#    VERSION, the version Terraform sees: the tag vX.Y.Z when HEAD is exactly
#    on one; else the version at the top of CHANGELOG.md (the next release,
#    0.1.0 until the first one), so that constraints such as "~> 0.1" match.
#    It is never a pre-release (0.1.0-dev): Terraform matches a pre-release
#    only with an exact version constraint. INSTALL_VERSION=X.Y.Z overrides it.
#    The binary's own -version is BUILD_VERSION (what `make build` stamps, from
#    `git describe`), so it tells which commit it was built from.
#
# 2. koophone-emulator is installed as `go install ./cmd/koophone-emulator`
#    would: into $GOBIN, or $(go env GOPATH)/bin when GOBIN is empty; its
#    -version is BUILD_VERSION too.
#
# Both builds use -trimpath, so rebuilding the same commit gives the same
# provider binary, and a module's .terraform.lock.hcl stays valid. A new
# commit gives a new binary whose checksum the lock file does not have: delete
# the module's .terraform.lock.hcl and run `terraform init` again (`init
# -upgrade` does not help: the version is the same).
#
# The platform is the Go toolchain's host (go env GOHOSTOS GOHOSTARCH). On
# Windows, Terraform's implied mirror is %APPDATA%\terraform.d\plugins
# instead: this script does not handle it.
set -euo pipefail

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

log() { printf 'install-local: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

[ -n "${HOME:-}" ] || die "HOME is not set: it decides where Terraform looks for local providers"

semver='^[0-9]+\.[0-9]+\.[0-9]+$'
version=${INSTALL_VERSION:-}
source="INSTALL_VERSION"
if [ -z "$version" ]; then
	if tag=$(git describe --tags --exact-match --match 'v[0-9]*' HEAD 2>/dev/null) && [[ ${tag#v} =~ $semver ]]; then
		version=${tag#v}
		source="the tag $tag"
	else
		version=$(sed -n 's/^## \([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\) .*$/\1/p' CHANGELOG.md | head -n 1)
		source="the top of CHANGELOG.md"
	fi
fi
[[ $version =~ $semver ]] || die "version '$version' (from $source) is not X.Y.Z: Terraform would not select it"

build_version=${BUILD_VERSION:-}
if [ -z "$build_version" ]; then
	build_version=$(git describe --tags --dirty --match 'v[0-9]*' 2>/dev/null || true)
	build_version=${build_version#v}
	build_version=${build_version:-$version-dev}
fi

goos=$(go env GOHOSTOS)
goarch=$(go env GOHOSTARCH)
binary="terraform-provider-koophone_v$version"
plugins="$HOME/.terraform.d/plugins"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/koophone-install.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

log "building the provider $build_version for $goos/$goarch"
GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "-X main.version=$build_version" -o "$tmp/$binary" .

for host in registry.terraform.io registry.opentofu.org; do
	dir="$plugins/$host/koophone/koophone/$version/${goos}_$goarch"
	mkdir -p "$dir"
	# Through a temporary name and a rename: a Terraform running now never
	# sees half a binary.
	cp "$tmp/$binary" "$dir/.$binary.tmp"
	chmod 0755 "$dir/.$binary.tmp"
	mv -f "$dir/.$binary.tmp" "$dir/$binary"
	log "installed koophone/koophone $version (version from $source) into $dir"
done

log "installing koophone-emulator (go install ./cmd/koophone-emulator)"
GOOS=$goos GOARCH=$goarch go install -trimpath -ldflags "-X main.version=$build_version" ./cmd/koophone-emulator
gobin=$(go env GOBIN)
gopath=$(go env GOPATH)
gobin=${gobin:-${gopath%%:*}/bin}
log "installed $gobin/koophone-emulator"
case ":$PATH:" in
*":$gobin:"*) ;;
*) log "note: $gobin is not on your PATH; add it: export PATH=\"$gobin:\$PATH\"" ;;
esac
