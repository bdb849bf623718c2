#!/usr/bin/env bash
# demo.sh - see the provider work end to end, offline (make demo).
#
# Builds the provider and the KooPhone emulator, starts the emulator on a free
# loopback port, submits an adb command to it outside Terraform (as a script
# would: scripts/submit-command.go), points Terraform at the freshly built
# provider through a dev_overrides CLI configuration, and applies
# examples/demo, which also reads that task with the data source
# koophone_instance_task. Everything is built and run in temporary directories
# that are removed at the end: no state, lock file or binary lands in the
# repository. Terraform's output is plain (-no-color) when stdout is not a
# terminal.
set -euo pipefail

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
demo_dir="$repo_root/examples/demo"
seed_file="$demo_dir/emulator-seed.json"
token="demo-token"

export CHECKPOINT_DISABLE=1

# Colours only for a terminal: a log or a pipe gets plain text.
color_args=()
[ -t 1 ] || color_args=(-no-color)

step=0
heading() {
	step=$((step + 1))
	printf '\n==> %d. %s\n' "$step" "$*"
}
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

[ -d "$demo_dir" ] || die "no demo configuration at $demo_dir"
shopt -s nullglob
demo_files=("$demo_dir"/*.tf "$demo_dir"/*.tfvars "$demo_dir"/*.tfvars.json)
shopt -u nullglob
[ "${#demo_files[@]}" -gt 0 ] || die "no *.tf files in $demo_dir"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/koophone-demo.XXXXXX")
emulator_pid=""
cleanup() {
	if [ -n "$emulator_pid" ] && kill -0 "$emulator_pid" 2>/dev/null; then
		kill "$emulator_pid" 2>/dev/null || true
		wait "$emulator_pid" 2>/dev/null || true
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

heading "Find Terraform (>= 1.6; built from source into bin/ if there is none)"
tf=$("$script_dir/ensure-terraform.sh")
echo "    $tf: $("$tf" version 2>/dev/null | head -n 1)"

heading "Build the provider and the KooPhone emulator into $tmp"
(cd "$repo_root" && go build -ldflags "-X main.version=demo" -o "$tmp/terraform-provider-koophone" .)
(cd "$repo_root" && go build -o "$tmp/koophone-emulator" ./cmd/koophone-emulator)
(cd "$repo_root" && go build -o "$tmp/submit-command" scripts/submit-command.go)
echo "    built terraform-provider-koophone, koophone-emulator and submit-command (a script's stand-in)"

heading "Tell Terraform to use this build of koophone/koophone (dev_overrides, no registry)"
cat >"$tmp/terraformrc" <<CONFIG
provider_installation {
  dev_overrides {
    "koophone/koophone" = "$tmp"
  }
  direct {}
}
CONFIG
export TF_CLI_CONFIG_FILE="$tmp/terraformrc"
unset TF_PLUGIN_CACHE_DIR
echo "    TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE"
echo "    (Terraform will warn that provider development overrides are in effect: that is expected)"

heading "Start the KooPhone emulator on a free loopback port"
emulator_args=(-listen 127.0.0.1:0 -token "$token" -url-file "$tmp/url" -job-duration 4s)
if [ -f "$seed_file" ]; then
	emulator_args+=(-seed "$seed_file")
else
	echo "    (no ${seed_file#"$repo_root"/}: starting the emulator without seed data)"
fi
"$tmp/koophone-emulator" "${emulator_args[@]}" >"$tmp/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 1 100); do
	[ -s "$tmp/url" ] && break
	if ! kill -0 "$emulator_pid" 2>/dev/null; then
		cat "$tmp/emulator.log" >&2 || true
		die "the emulator exited before it was ready"
	fi
	sleep 0.1
done
if [ ! -s "$tmp/url" ]; then
	cat "$tmp/emulator.log" >&2 || true
	die "the emulator did not write its URL to $tmp/url within 10 s"
fi
endpoint=$(head -n 1 "$tmp/url")
export KOOPHONE_ENDPOINT="$endpoint"
export KOOPHONE_TOKEN="$token"
# An access key of the caller's own would conflict with the demo's token.
unset KOOPHONE_ACCESS_KEY KOOPHONE_SECRET_KEY KOOPHONE_SECURITY_TOKEN
echo "    KOOPHONE_ENDPOINT=$KOOPHONE_ENDPOINT"
echo "    KOOPHONE_TOKEN=$KOOPHONE_TOKEN"

heading "Outside Terraform, a script submits an adb command to two phones"
outside_command="getprop ro.build.version.release"
echo "    POST $KOOPHONE_ENDPOINT/v1/instances/async-command"
echo "    {\"command\": \"$outside_command\", \"instance_ids\": [\"phone-001\", \"phone-002\"]}"
outside_task=$("$tmp/submit-command" -command "$outside_command" phone-001 phone-002) ||
	die "the submit outside Terraform failed"
echo "    -> task_id $outside_task: the demo configuration reads it with data.koophone_instance_task.outside"

heading "Apply examples/demo (in a scratch copy: state stays out of the repository)"
work="$tmp/work"
mkdir -p "$work"
cp "${demo_files[@]}" "$work/"
tf_vars=(-var "outside_task_id=$outside_task")
echo "    \$ terraform apply -auto-approve -input=false -var outside_task_id=$outside_task"
rc=0
"$tf" -chdir="$work" apply ${color_args[@]+"${color_args[@]}"} -auto-approve -input=false "${tf_vars[@]}" || rc=$?
if [ "$rc" -ne 0 ]; then
	printf '\ndemo: terraform apply failed (exit %d)\n' "$rc" >&2
	if [ -s "$tmp/emulator.log" ]; then
		echo "demo: emulator output:" >&2
		cat "$tmp/emulator.log" >&2
	fi
	exit "$rc"
fi

heading "What the emulator saw: the script's submit, one submit per resource, then the polls while Terraform waited"
echo "    (each task: the first poll at once, then pauses of 1 s, then poll_interval = 2s, until every phone was done)"
grep -E 'POST /v1/instances/|GET /v1/instances/tasks/' "$tmp/emulator.log" | sed 's/^/    /' || true

heading "Plan again: nothing is submitted, and of the tasks only the data source's is read (once: it has finished)"
before=$(grep -cE '(GET|POST) /v1/' "$tmp/emulator.log" || true)
echo "    \$ terraform plan -input=false -var outside_task_id=$outside_task"
"$tf" -chdir="$work" plan ${color_args[@]+"${color_args[@]}"} -input=false "${tf_vars[@]}"
after=$(grep -cE '(GET|POST) /v1/' "$tmp/emulator.log" || true)
echo "    API requests during the plan: $((after - before)) (the resources' finished tasks are not read again; a data source is read on every plan)"

printf '\n==> Done: the emulator is stopped and the temporary files are removed.\n'
