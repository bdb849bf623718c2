package emulator

import (
	"errors"
	"fmt"
)

// Seed is the format of the program's -seed file: the credentials it
// accepts, the phones it lists, the rules that decide how submitted work
// ends, and the tasks and faults it starts with, so a script, a demo or a
// module's tests can start the emulator in a known state. The reference
// seed file is examples/emulator/seed.json.
type Seed struct {
	// Credentials, when set, are the credentials accepted unless the
	// program's flags or environment give others (see the program's
	// documentation). ApplySeed ignores them: an Emulator's credentials
	// are fixed by Options when it is created.
	Credentials *Credentials `json:"credentials,omitempty"`
	// Phones are added with AddPhones: the tenant's phones, in listing
	// order, and (with Options.Instances) the ids that exist for jobs.
	Phones []Phone    `json:"phones"`
	Tasks  []TaskSpec `json:"tasks"`
	// Rules are added with AddRules: how submitted jobs end.
	Rules  []Rule  `json:"rules,omitempty"`
	Faults []Fault `json:"faults"`
}

// Credentials are the credentials an emulator accepts, as in Options: a
// token, an access key with its secret key (and, for temporary
// credentials, a security token), or both a token and an access key.
type Credentials struct {
	Token         string `json:"token,omitempty"`
	AccessKey     string `json:"access_key,omitempty"`
	SecretKey     string `json:"secret_key,omitempty"`
	SecurityToken string `json:"security_token,omitempty"`
}

// validate checks what New would panic on.
func (c Credentials) validate() error {
	switch {
	case c.Token == "" && c.AccessKey == "" && c.SecretKey == "" && c.SecurityToken == "":
		return errors.New("set token, or access_key and secret_key, or leave credentials out")
	case c.AccessKey == "" && c.SecretKey != "":
		return fieldErr("access_key", "required with secret_key")
	case c.AccessKey != "" && c.SecretKey == "":
		return fieldErr("secret_key", "required with access_key")
	case c.AccessKey == "" && c.SecurityToken != "":
		return fieldErr("access_key", "required with security_token, which makes an access key temporary")
	}
	return nil
}

// ParseSeed decodes a seed file strictly (unknown fields are errors, so a
// typo in a hand-written seed file is reported instead of ignored) and
// checks its credentials; ApplySeed validates the other entries. Errors
// name the field, as "rules[2]: unknown field \"comand\"" or
// "credentials.secret_key: required with access_key".
func ParseSeed(data []byte) (Seed, error) {
	var s Seed
	if err := decodeStrictAs(data, &s, "the file"); err != nil {
		return Seed{}, err
	}
	if s.Credentials != nil {
		if err := s.Credentials.validate(); err != nil {
			return Seed{}, inField("credentials", err)
		}
	}
	return s, nil
}

// ApplySeed adds the seed's phones and its rules (all of each, or none
// when one is invalid), then its tasks (in order) and then its faults, and
// returns the task ids. It stops at the first invalid entry, with an error
// that names it and its field, as "rules[2].command: invalid regular
// expression ..."; entries before it stay applied. It ignores Credentials.
func (e *Emulator) ApplySeed(s Seed) ([]string, error) {
	if err := e.addPhones(s.Phones); err != nil {
		return nil, err
	}
	if err := e.addRules(s.Rules); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(s.Tasks))
	for i, spec := range s.Tasks {
		id, err := e.addTask(spec)
		if err != nil {
			return ids, inField(fmt.Sprintf("tasks[%d]", i), err)
		}
		ids = append(ids, id)
	}
	for i, f := range s.Faults {
		if err := e.addFault(f); err != nil {
			return ids, inField(fmt.Sprintf("faults[%d]", i), err)
		}
	}
	return ids, nil
}
