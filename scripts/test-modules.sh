#!/usr/bin/env bash
# test-modules.sh - run `terraform test` (or `tofu test`) on the example modules
# against the KooPhone emulator (make test-modules; make test-compat runs it on
# every CLI).
#
#   scripts/test-modules.sh            the Terraform of scripts/ensure-terraform.sh
#   scripts/test-modules.sh CLI...     each of these CLIs (terraform or tofu)
#
# It takes the path the guide "Testing your modules offline" gives users:
# scripts/install-local.sh (make install-local) installs this build of the
# provider into Terraform's implied local mirror, under a temporary HOME, and
# the emulator into a temporary GOBIN; then, for every module under
# examples/modules/ that has a tests/ directory, and for every CLI, it copies
# the module to a scratch directory (so that no .terraform or lock file lands
# in the repository), starts a fresh emulator seeded from the module's
# tests/emulator-seed.json on a free loopback port, points the provider at it
# (KOOPHONE_ENDPOINT and KOOPHONE_TOKEN, from the emulator's -env-file), runs a
# plain `CLI init` and `CLI test` there, and stops the emulator with SIGTERM.
# No CLI configuration is used, and nothing is installed from a registry.
# (scripts/test-guides.sh runs the guide's own text.)
set -euo pipefail

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

export CHECKPOINT_DISABLE=1
unset TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR TF_REATTACH_PROVIDERS
unset KOOPHONE_ENDPOINT KOOPHONE_TOKEN KOOPHONE_ACCESS_KEY KOOPHONE_SECRET_KEY KOOPHONE_SECURITY_TOKEN
unset HW_ACCESS_KEY HW_SECRET_KEY HW_SECURITY_TOKEN

log() { printf 'test-modules: %s\n' "$*" >&2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/koophone-modules.XXXXXX")
emulator_pid=""
stop_emulator() {
	if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
		kill -TERM "$emulator_pid" 2>/dev/null || true
		wait "$emulator_pid" 2>/dev/null || true
	fi
	emulator_pid=""
}
trap 'stop_emulator; rm -rf -- "$tmp"' EXIT

clis=("$@")
if [ "${#clis[@]}" -eq 0 ]; then
	clis=("$("$script_dir/ensure-terraform.sh")")
fi

# The Go caches and settings stay the user's when HOME changes.
GOPATH=$(go env GOPATH) GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE) GOENV=$(go env GOENV)
export GOPATH GOMODCACHE GOCACHE GOENV
export HOME="$tmp/home" GOBIN="$tmp/gobin"
mkdir -p "$HOME"
"$script_dir/install-local.sh" 2>"$tmp/install.log" || {
	cat "$tmp/install.log" >&2
	log "install-local failed"
	exit 1
}
emulator_bin="$GOBIN/koophone-emulator"

failures=0 runs=0
for cli in "${clis[@]}"; do
	id=$("$cli" version 2>/dev/null | sed -n 1p) # sed reads it all: no SIGPIPE under pipefail
	for tests in examples/modules/*/tests; do
		module=${tests%/tests}
		seed="$tests/emulator-seed.json"
		runs=$((runs + 1))
		rm -f "$tmp/env" "$tmp/emulator.log"
		"$emulator_bin" -listen 127.0.0.1:0 -seed "$seed" -job-duration 2s -env-file "$tmp/env" \
			>/dev/null 2>"$tmp/emulator.log" &
		emulator_pid=$!
		for _ in $(seq 1 100); do
			[ -s "$tmp/env" ] && break
			kill -0 "$emulator_pid" 2>/dev/null || break
			sleep 0.1
		done
		if [ ! -s "$tmp/env" ]; then
			cat "$tmp/emulator.log" >&2
			log "$module: the emulator did not start"
			exit 1
		fi
		printf '==> %s: %s init, test (emulator seeded from %s)\n' "$module" "$id" "$seed"
		work="$tmp/work/$runs"
		mkdir -p "$work"
		cp -R "$module/." "$work/"
		rm -rf "$work/.terraform" "$work/.terraform.lock.hcl"
		rc=0
		if ! "$cli" -chdir="$work" init -input=false -no-color >"$tmp/init.log" 2>&1; then
			cat "$tmp/init.log" >&2
			log "$module: $id init failed"
			rc=1
		fi
		[ "$rc" -ne 0 ] || (
			set -a
			# shellcheck disable=SC1091
			. "$tmp/env"
			exec "$cli" -chdir="$work" test -no-color
		) || rc=$?
		stop_emulator
		if [ "$rc" -eq 0 ] && grep -q '"faults"' "$seed" && ! grep -q ' fault=[a-z]' "$tmp/emulator.log"; then
			log "$module: the seed programs faults, but no request met one: the fault tests proved nothing"
			rc=1
		fi
		if [ "$rc" -ne 0 ]; then
			failures=$((failures + 1))
			log "$module: $id test FAILED; the emulator's log:"
			sed 's/^/    /' "$tmp/emulator.log" >&2
		fi
	done
done
printf 'test-modules: %d module test runs, %d failed\n' "$runs" "$failures"
[ "$failures" -eq 0 ]
