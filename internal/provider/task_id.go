package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// taskIDValidators check a task id at plan time, wherever one is accepted:
// it goes into the URL path, so nothing that could change the path (/, ..,
// %, ?) gets through.
func taskIDValidators() []validator.String {
	return []validator.String{
		stringvalidator.LengthBetween(1, 64),
		stringvalidator.RegexMatches(taskIDPattern, "must contain only letters, digits, '_' and '-' (it is sent in the URL path)"),
	}
}
