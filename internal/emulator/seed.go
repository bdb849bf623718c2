package emulator

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
	// order, and (with Options.Instances) the ids that exist for jobs. In a
	// seed, an instance_id may hold one number range, {A..B}: the entry
	// stands for one phone per number (see ApplySeed).
	Phones []Phone    `json:"phones"`
	Tasks  []TaskSpec `json:"tasks"`
	// Rules are added with AddRules: how submitted jobs end.
	Rules  []Rule  `json:"rules,omitempty"`
	Faults []Fault `json:"faults"`
	// Latency, when set, is how long the program waits before it handles
	// each API request (not the admin API's), as a distant API's round trip
	// would take, unless its -latency flag says otherwise. ApplySeed ignores
	// it: an Emulator handler is wrapped with WithLatency (see
	// WithAPILatency) by whoever serves it.
	Latency Duration `json:"latency,omitempty"`
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
// checks its credentials and latency; ApplySeed validates the other
// entries. Errors
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
	if s.Latency < 0 {
		return Seed{}, fieldErr("latency", "%v: must not be negative", s.Latency)
	}
	return s, nil
}

// ApplySeed adds the seed's phones and its rules (all of each, or none
// when one is invalid), then its tasks (in order) and then its faults, and
// returns the task ids. It stops at the first invalid entry, with an error
// that names it and its field, as "rules[2].command: invalid regular
// expression ..."; entries before it stay applied. It ignores Credentials.
//
// A phone whose instance_id holds a number range, {A..B} (as in
// "phone-{001..120}"), stands for one phone per number from A to B, in
// order, each a copy of the entry with the range replaced by the number;
// the same range in instance_name is replaced by the same number. Numbers
// are zero-padded to the width of the longer bound when a bound is written
// with a leading zero, as in a shell's brace expansion: {001..120} gives
// 001 to 120, {1..120} gives 1 to 120.
func (e *Emulator) ApplySeed(s Seed) ([]string, error) {
	phones, entries, err := expandPhones(s.Phones)
	if err != nil {
		return nil, err
	}
	if err := e.addPhones(phones, entries); err != nil {
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

// phoneRange is a number range in a seed phone's instance_id: {A..B}.
var phoneRange = regexp.MustCompile(`\{([0-9]+)\.\.([0-9]+)\}`)

// maxPhoneRange is the most phones one range may stand for: enough for a
// fleet, few enough that a typo ({1..1000000000}) is an error, not a
// stalled start.
const maxPhoneRange = 100_000

// expandPhones expands the phones of a seed whose instance_id holds a
// number range (see ApplySeed) and returns, for each phone, the index of
// the entry it comes from, for errors.
func expandPhones(phones []Phone) ([]Phone, []int, error) {
	out := make([]Phone, 0, len(phones))
	entries := make([]int, 0, len(phones))
	for i, p := range phones {
		field := fmt.Sprintf("phones[%d]", i)
		locs := phoneRange.FindAllStringSubmatchIndex(p.InstanceID, -1)
		if len(locs) == 0 {
			if m := phoneRange.FindString(p.InstanceName); m != "" {
				return nil, nil, fieldErr(field+".instance_name", "%q has the range %s, but instance_id %q has none", p.InstanceName, m, p.InstanceID)
			}
			out = append(out, p)
			entries = append(entries, i)
			continue
		}
		if len(locs) > 1 {
			return nil, nil, fieldErr(field+".instance_id", "%q: at most one range {A..B}, got %d", p.InstanceID, len(locs))
		}
		loc := locs[0]
		rng := p.InstanceID[loc[0]:loc[1]]
		loText, hiText := p.InstanceID[loc[2]:loc[3]], p.InstanceID[loc[4]:loc[5]]
		lo, errLo := strconv.Atoi(loText)
		hi, errHi := strconv.Atoi(hiText)
		switch {
		case errLo != nil || errHi != nil || len(loText) > 9 || len(hiText) > 9:
			return nil, nil, fieldErr(field+".instance_id", "range %s: numbers of at most 9 digits", rng)
		case lo > hi:
			return nil, nil, fieldErr(field+".instance_id", "range %s: the first number must not be greater than the second", rng)
		case hi-lo >= maxPhoneRange:
			return nil, nil, fieldErr(field+".instance_id", "range %s: %d phones, more than the %d one range may stand for", rng, hi-lo+1, maxPhoneRange)
		}
		for _, m := range phoneRange.FindAllString(p.InstanceName, -1) {
			if m != rng {
				return nil, nil, fieldErr(field+".instance_name", "range %s differs from instance_id's %s", m, rng)
			}
		}
		width := 0
		if leadingZero(loText) || leadingZero(hiText) {
			width = max(len(loText), len(hiText))
		}
		for n := lo; n <= hi; n++ {
			num := fmt.Sprintf("%0*d", width, n)
			q := p
			q.InstanceID = strings.Replace(p.InstanceID, rng, num, 1)
			q.InstanceName = strings.ReplaceAll(p.InstanceName, rng, num)
			out = append(out, q)
			entries = append(entries, i)
		}
	}
	return out, entries, nil
}

// leadingZero reports whether a number is written with a leading zero.
func leadingZero(digits string) bool { return len(digits) > 1 && digits[0] == '0' }
