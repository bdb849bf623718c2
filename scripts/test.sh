#!/usr/bin/env bash
# test.sh - go vet, then every test, acceptance tests included (make test).
#
# The acceptance tests (TestAcc...) drive the real Terraform CLI against the
# KooPhone emulator, so they need no account and run by default (TF_ACC=1).
# Terraform comes from scripts/ensure-terraform.sh and is handed to
# terraform-plugin-testing through TF_ACC_TERRAFORM_PATH; TF_ACC_TERRAFORM_VERSION
# is unset because it would make the test framework download Terraform.
#
# go test runs with -json, read as it comes by scripts/testsummary.go, which
# prints each package's result line ("ok  <package> 12.3s"; with -v among the
# arguments, all the output), then the output of every failed test, and ends
# with one line:
#
#   make test: 412 tests ran: 409 passed, 0 failed, 3 skipped (5m10s)
#
# counting top-level tests (a subtest counts with its parent; the skipped ones
# are those that need a real KooPhone account). The raw log is kept in
# bin/test.json.
#
# Extra arguments go to `go test`, e.g. scripts/test.sh -run TestAcc -v
set -euo pipefail

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

export CHECKPOINT_DISABLE=1
export TF_ACC=1
unset TF_ACC_TERRAFORM_VERSION

TF_ACC_TERRAFORM_PATH=$("$script_dir/ensure-terraform.sh")
export TF_ACC_TERRAFORM_PATH

echo "==> terraform: $TF_ACC_TERRAFORM_PATH ($("$TF_ACC_TERRAFORM_PATH" version 2>/dev/null | sed -n 1p))"
echo "==> go vet ./..."
go vet ./...

mkdir -p bin
go build -o bin/testsummary scripts/testsummary.go
echo_mode=results
for arg in "$@"; do
	case "$arg" in -v | -v=true | -test.v | -test.v=true) echo_mode=all ;; esac
done

# The acceptance tests run on the wall clock and spend most of it waiting
# (for the emulator's jobs, a retry's backoff, a timeout), not computing:
# -parallel 8 overlaps the waits, where the default (GOMAXPROCS) would run
# two at a time on a two-core machine.
echo "==> go test -count=1 -race -parallel 8 -timeout 20m ./... $*"
rc=0
go test -json -count=1 -race -parallel 8 -timeout 20m ./... "$@" 2>&1 |
	tee bin/test.json |
	bin/testsummary -label "make test" -echo "$echo_mode" -ran -time || rc=$?
exit "$rc"
