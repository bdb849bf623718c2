package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/action"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The koophone_instance_reset action's submit; its lifecycle is
// action_lifecycle.go's.

type instanceResetActionModel struct {
	actionModel
}

func (m *instanceResetActionModel) common() *actionModel { return &m.actionModel }

// submit resets the phones: POST /v1/instances/batch-reset. Its answer has
// a task since Huawei's SDK 3.1.198 and none before: then the wave is
// followed through the phones' status, as it is when the task query does
// not know the task.
func (m *instanceResetActionModel) submit(ctx context.Context, client *koophone.Client, status *phoneStatusReader, instanceIDs []string) (koophone.Submission, error) {
	sub, err := client.ResetInstances(ctx, instanceIDs)
	switch {
	case err != nil:
		return sub, err
	case sub.TaskID == "":
		return status.noTask(sub.RequestID, instanceIDs), nil
	}
	status.withTask(sub)
	return sub, nil
}

func newInstanceResetAction() action.Action {
	return &phoneAction{
		newModel:   func() operation { return &instanceResetActionModel{} },
		typeSuffix: "_instance_reset",
		noun:       "reset",
		waitDesc: "waits until every phone has been reset: it follows the reset's task (one per wave), or, when the API answers " +
			"without a task or its task query does not know it, the phones' status (running again after they were seen in another state)",
		description: "**Destructive.** Re-initialises any number of cloud phones (`POST /v1/instances/batch-reset`): the phones' data is " +
			"most likely wiped (Huawei's documentation says the phones are re-initialised, without saying what is kept), and nothing " +
			"can undo it. Invoke it only on phones whose data you can lose.\n\n" +
			"It runs in waves with an optional canary and a failure budget, waits until every phone has been reset, streams progress, and " +
			"reports each phone's outcome. It keeps nothing in state: it runs each time it is invoked " +
			"(`terraform apply -invoke=action.koophone_instance_reset.NAME`, or from a resource's `action_trigger`). Needs Terraform 1.14 or later.",
	}
}
