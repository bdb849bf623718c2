#!/usr/bin/env bash
# test-compat.sh - run the whole acceptance suite on every CLI we support (make test-compat).
#
#   scripts/test-compat.sh            the terraform on PATH (if any), Terraform 1.6.6, OpenTofu 1.6.3
#   scripts/test-compat.sh CLI...     only these CLIs (paths or names on PATH; terraform or tofu)
#
# Supported range: Terraform >= 1.6 and OpenTofu >= 1.6. 1.6.6 and 1.6.3 are the
# oldest releases we support that can be built from source with `go install`
# (through the Go module proxy: nothing is downloaded from a release site), so
# they pin the bottom of the range; the terraform on PATH, usually recent,
# covers the top. Builds go into bin/terraform-1.6.6/ and bin/tofu-1.6.3/ and
# are reused by later runs (a cold build takes a few minutes, a warm one
# seconds).
#
# For each CLI it runs `go test -json -run '^TestAcc' ./...` with TF_ACC=1 and
# TF_ACC_TERRAFORM_PATH set to it (for OpenTofu also TF_ACC_PROVIDER_HOST=
# registry.opentofu.org and TF_ACC_PROVIDER_NAMESPACE=hashicorp) and prints one
# line per CLI, then a total:
#
#   test-compat: Terraform v1.11.4 (/usr/local/bin/terraform): 34 passed, 0 failed, 0 skipped (61s)
#   ...
#   test-compat: 102 passed, 0 failed, 0 skipped
#
# Then it runs scripts/test-modules.sh (`terraform test` / `tofu test` on the
# example modules, against the emulator) on every CLI.
#
# Counts are of top-level tests. The raw `go test -json` logs are kept in
# bin/test-compat/. The race detector is left to `make test`: here the point
# is the CLI, and the suite runs three times.
#
# Environment: TEST_COMPAT_RUN overrides the -run pattern (default ^TestAcc).
set -euo pipefail

TERRAFORM_VERSION="1.6.6"
TOFU_VERSION="1.6.3"
RUN_PATTERN="${TEST_COMPAT_RUN:-^TestAcc}"

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

export CHECKPOINT_DISABLE=1
export TF_ACC=1
# Set, this would make terraform-plugin-testing download Terraform.
unset TF_ACC_TERRAFORM_VERSION
# Set per CLI below.
unset TF_ACC_TERRAFORM_PATH TF_ACC_PROVIDER_HOST TF_ACC_PROVIDER_NAMESPACE
# A developer's CLI configuration, plugin cache or reattach settings must not
# change what the tests see.
unset TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR TF_REATTACH_PROVIDERS

log() { printf 'test-compat: %s\n' "$*" >&2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/koophone-compat.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
logs="$repo_root/bin/test-compat"
mkdir -p "$logs"

# cli_id BINARY: print "Terraform v1.2.3" or "OpenTofu v1.2.3" (the first line
# of `BINARY version`), or nothing when BINARY is neither.
cli_id() {
	"$1" version 2>/dev/null | head -n 1 | sed -nE 's/^(Terraform|OpenTofu) (v[0-9][0-9A-Za-z.+-]*).*$/\1 \2/p' || true
}

# at_least_1_6 "Terraform v1.2.3": true for 1.6.0 and newer.
at_least_1_6() {
	local v=${1#* v} major minor
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%.*}
	[[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
	((major > 1 || (major == 1 && minor >= 6)))
}

# same_release ID WANT: true when ID is WANT, or WANT built from source with
# `go install`, which reports itself as a "-dev" prerelease (v1.6.6-dev).
same_release() {
	[ "$1" = "$2" ] || [ "$1" = "$2-dev" ]
}

# go_installed DIR NAME MODULE VERSION WANT_ID: print the path of DIR/NAME,
# building it with `GOBIN=DIR go install MODULE@vVERSION` unless it is already
# there and reports WANT_ID.
go_installed() {
	local dir=$1 name=$2 module=$3 version=$4 want=$5
	local bin="$dir/$name"
	if [ -x "$bin" ] && same_release "$(cli_id "$bin")" "$want"; then
		printf '%s\n' "$bin"
		return 0
	fi
	log "building $want into ${dir#"$repo_root"/} (go install $module@v$version; minutes when cold, once)"
	mkdir -p "$dir"
	if ! GOBIN="$dir" go install "$module@v$version" >&2; then
		log "go install $module@v$version failed"
		return 1
	fi
	if ! same_release "$(cli_id "$bin")" "$want"; then
		log "$bin does not report $want"
		return 1
	fi
	printf '%s\n' "$bin"
}

terraform_pinned() {
	# ensure-terraform.sh builds the same release into bin/terraform: reuse it.
	if [ -x "$repo_root/bin/terraform" ] && same_release "$(cli_id "$repo_root/bin/terraform")" "Terraform v$TERRAFORM_VERSION"; then
		printf '%s\n' "$repo_root/bin/terraform"
		return 0
	fi
	go_installed "$repo_root/bin/terraform-$TERRAFORM_VERSION" terraform \
		github.com/hashicorp/terraform "$TERRAFORM_VERSION" "Terraform v$TERRAFORM_VERSION"
}

tofu_pinned() {
	go_installed "$repo_root/bin/tofu-$TOFU_VERSION" tofu \
		github.com/opentofu/opentofu/cmd/tofu "$TOFU_VERSION" "OpenTofu v$TOFU_VERSION"
}

# The CLIs to run, as "ID<TAB>PATH" lines, in order and without duplicates
# (the same release twice, e.g. a terraform 1.6.6 on PATH, runs once).
clis=()
seen=" "
rows=()
failures=0
add_cli() {
	local path=$1 id
	id=$(cli_id "$path")
	if [ -z "$id" ]; then
		log "$path is neither Terraform nor OpenTofu: skipped"
		rows+=("test-compat: $path: not Terraform or OpenTofu, skipped")
		return 0
	fi
	if ! at_least_1_6 "$id"; then
		log "$id ($path) is older than 1.6, outside the supported range: skipped"
		rows+=("test-compat: $id ($path): older than 1.6, not supported, skipped")
		return 0
	fi
	case "$seen" in *" ${id%-dev} "*) return 0 ;; esac
	seen="$seen${id%-dev} "
	clis+=("$id"$'\t'"$path")
}

abs_path() {
	case "$1" in
	*/*) printf '%s/%s\n' "$(CDPATH='' cd -- "$(dirname -- "$1")" && pwd -P)" "$(basename -- "$1")" ;;
	*) command -v -- "$1" ;;
	esac
}

if [ $# -gt 0 ]; then
	for arg in "$@"; do
		if ! p=$(abs_path "$arg") || [ ! -x "$p" ]; then
			log "no executable $arg"
			exit 2
		fi
		add_cli "$p"
	done
else
	if p=$(command -v terraform 2>/dev/null); then
		add_cli "$p"
	else
		log "no terraform on PATH"
	fi
	for want in terraform_pinned tofu_pinned; do
		if p=$("$want"); then
			add_cli "$p"
		else
			rows+=("test-compat: ${want%_pinned} could not be built: FAILED")
			failures=$((failures + 1))
		fi
	done
fi

if [ "${#clis[@]}" -eq 0 ]; then
	log "no CLI to test"
	exit 1
fi

# The summariser, compiled once.
go build -o "$tmp/testsummary" "$script_dir/testsummary.go"

total_pass=0 total_fail=0 total_skip=0
for entry in "${clis[@]}"; do
	id=${entry%%$'\t'*}
	path=${entry#*$'\t'}
	slug=$(printf '%s' "$id" | tr 'A-Z ' 'a-z-')
	label="test-compat: $id ($path)"
	env_vars=(TF_ACC_TERRAFORM_PATH="$path")
	case "$id" in
	OpenTofu*) env_vars+=(TF_ACC_PROVIDER_HOST=registry.opentofu.org TF_ACC_PROVIDER_NAMESPACE=hashicorp) ;;
	esac
	printf '==> %s: go test -json -count=1 -parallel 8 -run %q ./...  [%s]\n' "$id" "$RUN_PATTERN" "${env_vars[*]}"
	start=$SECONDS
	rc=0
	env "${env_vars[@]}" go test -json -count=1 -parallel 8 -timeout 30m -run "$RUN_PATTERN" ./... \
		>"$logs/$slug.json" 2>"$logs/$slug.stderr" || rc=$?
	elapsed=$((SECONDS - start))
	src=0
	summary=$("$tmp/testsummary" -label "$label" <"$logs/$slug.json") || src=$?
	if [ "$rc" -ne 0 ] && [ "$src" -eq 0 ]; then
		src=1 # go test failed in a way the JSON does not show
	fi
	if [ "$src" -ne 0 ]; then
		failures=$((failures + 1))
		printf '%s\n' "$summary" | sed '$d'
		[ ! -s "$logs/$slug.stderr" ] || sed 's/^/    /' "$logs/$slug.stderr"
		log "go test exited $rc; full log: ${logs#"$repo_root"/}/$slug.json"
	fi
	line="$(printf '%s\n' "$summary" | tail -n 1) (${elapsed}s)"
	[ "$src" -eq 0 ] || line="$line FAILED"
	printf '%s\n' "$line"
	rows+=("$line")
	counts=$(printf '%s\n' "$summary" | tail -n 1 | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
	read -r p f s <<<"${counts:-0 0 0}"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
done

# The example modules' own tests (`terraform test` / `tofu test`) on every CLI.
cli_paths=()
for entry in "${clis[@]}"; do
	cli_paths+=("${entry#*$'\t'}")
done
modules_line="test-modules: passed on every CLI"
if ! "$script_dir/test-modules.sh" "${cli_paths[@]}"; then
	failures=$((failures + 1))
	modules_line="test-modules: FAILED (see above)"
fi

echo
echo "==> Acceptance suite per CLI (supported: Terraform >= 1.6, OpenTofu >= 1.6)"
printf '%s\n' "$modules_line"
printf '%s\n' "${rows[@]}"
printf 'test-compat: %d passed, %d failed, %d skipped\n' "$total_pass" "$total_fail" "$total_skip"
if [ "$failures" -ne 0 ]; then
	log "$failures CLI(s) failed or could not be built"
	exit 1
fi
