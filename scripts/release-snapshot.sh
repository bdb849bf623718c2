#!/usr/bin/env bash
# release-snapshot.sh - build the release artifacts locally and check them (make release-snapshot).
#
#   1. goreleaser (pinned below) comes from bin/, or is built there with
#      `go install`. goreleaser v2 needs Go 1.27 to build, so that one
#      `go install` runs with GOTOOLCHAIN=go1.27.3 (the Go module proxy serves
#      the toolchain); the provider itself is built with the Go that go.mod
#      asks for. A cold build of goreleaser takes about ten minutes, once.
#   2. `goreleaser check`, then `goreleaser release --snapshot --clean` into dist/.
#      The SHA256SUMS file is signed as a release's is: with the key in
#      GPG_FINGERPRINT when it is set, else with a throwaway key made in a
#      temporary GNUPGHOME (skipped, with a note, when gpg is not installed).
#   3. Lists the artifacts and checks them: every platform's provider zip and
#      emulator zip (koophone-emulator_*) is there, SHA256SUMS lists exactly
#      those zips and the manifest and matches them, the signature verifies,
#      the manifest is terraform-registry-manifest.json, and the linux/amd64
#      provider and emulator binaries - run with -version - report the
#      snapshot's version and commit, and were built static (CGO_ENABLED=0)
#      and with -trimpath; the emulator zip holds the reference seed.json.
#
# Nothing is published: --snapshot never releases.
set -euo pipefail

GORELEASER_VERSION="v2.15.1"
GORELEASER_TOOLCHAIN="go1.27.3"
# goos/goarch pairs .goreleaser.yml builds: 4 x 4 minus darwin/386,
# darwin/arm and windows/arm.
PLATFORMS="darwin_amd64 darwin_arm64 freebsd_386 freebsd_amd64 freebsd_arm freebsd_arm64
linux_386 linux_amd64 linux_arm linux_arm64 windows_386 windows_amd64 windows_arm64"

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

log() { printf 'release-snapshot: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}
step() { printf '\n==> %s\n' "$*"; }
# check_static BINARY: it was built static (CGO_ENABLED=0) and with -trimpath.
check_static() {
	local buildinfo
	buildinfo=$(go version -m "$1")
	grep -q $'build\tCGO_ENABLED=0' <<<"$buildinfo" || die "$1 was not built with CGO_ENABLED=0"
	grep -q $'build\t-trimpath=true' <<<"$buildinfo" || die "$1 was not built with -trimpath"
	echo "    built by $(head -n 1 <<<"$buildinfo" | awk '{print $2}') with CGO_ENABLED=0 and -trimpath"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/koophone-release.XXXXXX")
cleanup() {
	if [ -n "${GNUPGHOME:-}" ] && [ "${GNUPGHOME#"$tmp"}" != "$GNUPGHOME" ]; then
		gpgconf --kill all >/dev/null 2>&1 || true
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT

# 1. goreleaser: $GORELEASER, bin/goreleaser, or the one on PATH, when it is
# the pinned release (CI may install it with goreleaser-action); else build it.
is_pinned_goreleaser() {
	[ -n "$1" ] && [ -x "$1" ] &&
		"$1" --version 2>/dev/null | grep -Eq "^GitVersion:[[:space:]]+$GORELEASER_VERSION\$"
}
step "goreleaser $GORELEASER_VERSION"
goreleaser=""
for candidate in "${GORELEASER:-}" "$repo_root/bin/goreleaser" "$(command -v goreleaser 2>/dev/null || true)"; do
	if is_pinned_goreleaser "$candidate"; then
		goreleaser=$candidate
		break
	fi
done
if [ -n "$goreleaser" ]; then
	echo "    $goreleaser (already there)"
else
	goreleaser="$repo_root/bin/goreleaser"
	log "building goreleaser $GORELEASER_VERSION into bin/ (GOTOOLCHAIN=$GORELEASER_TOOLCHAIN go install; minutes when cold, once)"
	start=$SECONDS
	GOBIN="$repo_root/bin" GOTOOLCHAIN="$GORELEASER_TOOLCHAIN" \
		go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION" >&2 ||
		die "go install github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION failed"
	echo "    built $goreleaser in $((SECONDS - start))s"
fi
# From here on, everything (the provider's builds included) uses the Go that
# go.mod asks for.
unset GOTOOLCHAIN

# goreleaser reads the repository's remote URL; a clone without a remote
# (a local worktree, a bare CI checkout) would make a snapshot fall back to
# commit "none" and stamp that. Give it the project's URL through the
# environment only: no git configuration file is changed.
if [ -z "$(git remote)" ]; then
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url \
		GIT_CONFIG_VALUE_0=https://github.com/koophone/terraform-provider-koophone.git
fi

# 2. check and build
step "goreleaser check"
"$goreleaser" check

sign_args=()
if [ -n "${GPG_FINGERPRINT:-}" ]; then
	echo "    signing with GPG_FINGERPRINT=$GPG_FINGERPRINT"
	signed=yes
elif command -v gpg >/dev/null 2>&1; then
	export GNUPGHOME="$tmp/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --quiet --passphrase '' --quick-generate-key \
		'terraform-provider-koophone snapshot (throwaway) <snapshot@koophone.invalid>' ed25519 sign 1d 2>/dev/null
	GPG_FINGERPRINT=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
	[ -n "$GPG_FINGERPRINT" ] || die "could not create a throwaway GPG key"
	export GPG_FINGERPRINT
	echo "    signing with a throwaway key ($GPG_FINGERPRINT), deleted afterwards"
	signed=yes
else
	echo "    gpg is not installed: building without a signature (--skip=sign)"
	sign_args=(--skip=sign)
	signed=no
fi

step "goreleaser release --snapshot --clean ${sign_args[*]}"
start=$SECONDS
"$goreleaser" release --snapshot --clean "${sign_args[@]}"
echo "    built in $((SECONDS - start))s"

# 3. list and check
step "Artifacts in dist/"
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json | head -n 1)
[ -n "$version" ] || die "no version in dist/metadata.json"
commit=$(git rev-parse HEAD)
prefix="terraform-provider-koophone_${version}"
emulator_prefix="koophone-emulator_${version}"
(cd dist && find . -maxdepth 1 -type f ! -name '*.json' ! -name '*.yaml' -printf '%f\n' | LC_ALL=C sort | while read -r f; do
	printf '    %-72s %10d bytes\n' "$f" "$(stat -c %s "$f")"
done)

step "Checks"
missing=0
for p in $PLATFORMS; do
	for zip in "dist/${prefix}_${p}.zip" "dist/${emulator_prefix}_${p}.zip"; do
		[ -f "$zip" ] || { log "missing $zip"; missing=1; }
	done
done
zips=$(find dist -maxdepth 1 -name "${prefix}_*.zip" | wc -l)
emulator_zips=$(find dist -maxdepth 1 -name "${emulator_prefix}_*.zip" | wc -l)
[ "$missing" -eq 0 ] || die "platform zips are missing"
echo "    $zips provider zips and $emulator_zips emulator zips: $(printf '%s' "$PLATFORMS" | tr -s ' \n' ',')"

sums="dist/${prefix}_SHA256SUMS"
[ -f "$sums" ] || die "no $sums"
# Every line: the zips are in dist/; the manifest is uploaded from
# terraform-registry-manifest.json under its release name (see release.extra_files).
listed=0 manifest_listed=no emulator_listed=0
while read -r sum name; do
	case "$name" in
	"${prefix}_manifest.json")
		file=terraform-registry-manifest.json
		manifest_listed=yes
		;;
	"${prefix}_"*.zip) file="dist/$name" ;;
	"${emulator_prefix}_"*.zip)
		file="dist/$name"
		emulator_listed=$((emulator_listed + 1))
		;;
	*) die "SHA256SUMS lists $name, which is neither a zip of this release nor its manifest" ;;
	esac
	[ -f "$file" ] || die "SHA256SUMS lists $name, but there is no $file"
	[ "$(sha256sum "$file" | awk '{print $1}')" = "$sum" ] || die "SHA256SUMS does not match $file"
	listed=$((listed + 1))
done <"$sums"
[ "$manifest_listed" = yes ] || die "SHA256SUMS does not cover ${prefix}_manifest.json"
[ "$emulator_listed" -eq "$emulator_zips" ] || die "SHA256SUMS lists $emulator_listed emulator zips, want $emulator_zips"
want_listed=$((zips + emulator_zips + 1))
[ "$listed" -eq "$want_listed" ] || die "SHA256SUMS lists $listed files, want $want_listed (the provider and emulator zips and the manifest)"
echo "    SHA256SUMS lists $listed files, the $zips provider zips, the $emulator_zips emulator zips and"
echo "    ${prefix}_manifest.json (terraform-registry-manifest.json, protocol_versions 6.0), and matches them"

if [ "$signed" = yes ]; then
	[ -f "$sums.sig" ] || die "no signature $sums.sig"
	gpg --batch --quiet --verify "$sums.sig" "$sums" 2>"$tmp/verify.log" || {
		cat "$tmp/verify.log" >&2
		die "the signature of SHA256SUMS does not verify"
	}
	echo "    ${sums#dist/}.sig is a valid detached signature by $GPG_FINGERPRINT"
fi

# check_linux_amd64 ZIP_PREFIX BINARY NAME: unzip ZIP_PREFIX_linux_amd64.zip
# into $tmp/ZIP_PREFIX, and check that it holds the executable BINARY, whose
# -version is "NAME <version> (commit <commit>)" and which is static.
check_linux_amd64() {
	local dir="$tmp/$1" binary want got
	mkdir -p "$dir"
	(cd "$dir" && unzip -q "$repo_root/dist/${1}_linux_amd64.zip")
	binary="$dir/$2"
	[ -x "$binary" ] || die "the linux/amd64 zip $1 has no executable $2: $(ls "$dir")"
	echo "    ${1}_linux_amd64.zip holds: $(find "$dir" -type f -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')"
	want="$3 ${version} (commit ${commit})"
	got=$("$binary" -version)
	echo "    \$ $2 -version"
	echo "    $got"
	[ "$got" = "$want" ] || die "the version stamp of $2 is wrong: got '$got', want '$want'"
	echo "    version stamp OK: version $version, commit $commit"
	check_static "$binary"
}

# The version stamps: run the linux/amd64 binaries from their zips.
check_linux_amd64 "$prefix" "terraform-provider-koophone_v${version}" terraform-provider-koophone
check_linux_amd64 "$emulator_prefix" koophone-emulator koophone-emulator
# The emulator's zip holds the reference seed file.
cmp -s "$tmp/$emulator_prefix/seed.json" examples/emulator/seed.json ||
	die "the emulator zip's seed.json is not examples/emulator/seed.json"

printf '\nrelease-snapshot: OK: %s, %d provider zips and %d emulator zips in dist/\n' "$version" "$zips" "$emulator_zips"
