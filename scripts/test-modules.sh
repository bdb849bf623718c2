#!/usr/bin/env bash
# test-modules.sh - run `terraform test` (or `tofu test`) on the example modules
# against the KooPhone emulator (make test-modules; make test-compat runs it on
# every CLI).
#
#   scripts/test-modules.sh            the Terraform of scripts/ensure-terraform.sh
#   scripts/test-modules.sh CLI...     each of these CLIs (terraform or tofu)
#
# For every module under examples/modules/ that has a tests/ directory, and
# for every CLI, it starts a fresh emulator seeded from the module's
# tests/emulator-seed.json on a free loopback port, points the provider at it
# (KOOPHONE_ENDPOINT and KOOPHONE_TOKEN, from the emulator's -env-file), runs
# `CLI test` in the module, and stops the emulator with SIGTERM. This build of
# the provider is used through dev_overrides, so nothing is installed from a
# registry. It is what the guide "Testing your modules offline" tells users to
# do in their CI.
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

go build -o "$tmp/plugins/terraform-provider-koophone" .
go build -o "$tmp/koophone-emulator" ./cmd/koophone-emulator
cat >"$tmp/cli.rc" <<CONFIG
provider_installation {
  dev_overrides {
    "koophone/koophone" = "$tmp/plugins"
  }
  direct {}
}
CONFIG
export TF_CLI_CONFIG_FILE="$tmp/cli.rc"

failures=0 runs=0
for cli in "${clis[@]}"; do
	id=$("$cli" version 2>/dev/null | sed -n 1p) # sed reads it all: no SIGPIPE under pipefail
	for tests in examples/modules/*/tests; do
		module=${tests%/tests}
		seed="$tests/emulator-seed.json"
		runs=$((runs + 1))
		rm -f "$tmp/env" "$tmp/emulator.log"
		"$tmp/koophone-emulator" -listen 127.0.0.1:0 -seed "$seed" -job-duration 2s -env-file "$tmp/env" \
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
		printf '==> %s: %s test (emulator seeded from %s)\n' "$module" "$id" "$seed"
		rc=0
		(
			set -a
			# shellcheck disable=SC1091
			. "$tmp/env"
			exec "$cli" -chdir="$module" test -no-color
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
