#!/bin/sh
# test.sh - go vet, then every test, acceptance tests included (make test).
#
# The acceptance tests (TestAcc...) drive the real Terraform CLI against the
# KooPhone emulator, so they need no account and run by default (TF_ACC=1).
# Terraform comes from scripts/ensure-terraform.sh and is handed to
# terraform-plugin-testing through TF_ACC_TERRAFORM_PATH; TF_ACC_TERRAFORM_VERSION
# is unset because it would make the test framework download Terraform.
#
# Extra arguments go to `go test`, e.g. scripts/test.sh -run TestAcc -v
set -eu

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

export CHECKPOINT_DISABLE=1
export TF_ACC=1
unset TF_ACC_TERRAFORM_VERSION

TF_ACC_TERRAFORM_PATH=$("$script_dir/ensure-terraform.sh")
export TF_ACC_TERRAFORM_PATH

echo "==> terraform: $TF_ACC_TERRAFORM_PATH ($("$TF_ACC_TERRAFORM_PATH" version 2>/dev/null | head -n 1))"
echo "==> go vet ./..."
go vet ./...
# The acceptance tests run on the wall clock and spend most of it waiting
# (for the emulator's jobs, a retry's backoff, a timeout), not computing:
# -parallel 8 overlaps the waits, where the default (GOMAXPROCS) would run
# two at a time on a two-core machine.
echo "==> go test -count=1 -race -parallel 8 -timeout 20m ./... $*"
go test -count=1 -race -parallel 8 -timeout 20m ./... "$@"
