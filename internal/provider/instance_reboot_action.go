package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/action"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The koophone_instance_reboot action's submit; its lifecycle is
// action_lifecycle.go's.

type instanceRebootActionModel struct {
	actionModel
}

func (m *instanceRebootActionModel) common() *actionModel { return &m.actionModel }

// submit reboots the phones: POST /v1/instances/reboot, which answers with
// no task, so the wave is followed through the phones' status.
func (m *instanceRebootActionModel) submit(ctx context.Context, client *koophone.Client, status *phoneStatusReader, instanceIDs []string) (koophone.Submission, error) {
	requestID, err := client.RebootInstances(ctx, instanceIDs)
	if err != nil {
		return koophone.Submission{RequestID: requestID}, err
	}
	return status.noTask(requestID, instanceIDs), nil
}

func newInstanceRebootAction() action.Action {
	return &phoneAction{
		newModel:   func() operation { return &instanceRebootActionModel{} },
		typeSuffix: "_instance_reboot",
		noun:       "reboot",
		waitDesc: "waits until each phone reports running again (`POST /v1/instances/batch-query-status`): it must report another status " +
			"first, or still be running 30 seconds after the reboot; a phone that was starting and then reports stopped or shut down, or " +
			"still reports either 5 minutes after the reboot, has failed",
		description: "Reboots any number of cloud phones (`POST /v1/instances/reboot`) when invoked, in waves with an optional canary and " +
			"a failure budget, and waits until each is running again, streaming progress. The API refuses a wave in which any phone is not " +
			"running (`KOOPHONE.API.5005`), and the invocation then stops. A reboot creates no task: progress and outcome come from the " +
			"phones' status. It keeps nothing in state: it runs each time it is invoked " +
			"(`terraform apply -invoke=action.koophone_instance_reboot.NAME`, or from a resource's `action_trigger`). Needs Terraform 1.14 or later.",
	}
}
