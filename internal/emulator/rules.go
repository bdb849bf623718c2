package emulator

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
)

// The kinds of Rule.
const (
	// RuleCommand rules match adb commands (POST /v1/instances/async-command).
	RuleCommand = "command"
	// RuleAppInstall rules match app installs (POST /v1/instances/app/install).
	RuleAppInstall = "app_install"
	// RuleReboot rules match phone reboots (POST /v1/instances/reboot): they
	// decide how long a phone stays starting and the status it ends in.
	RuleReboot = "reboot"
	// RuleReset rules match phone resets (POST /v1/instances/batch-reset):
	// they decide the reset task's jobs, as command rules do, and the
	// status each phone ends in.
	RuleReset = "reset"
)

// ruleKinds lists the kinds for errors, in the order the docs give them.
const ruleKinds = `"command", "app_install", "reboot" or "reset"`

// The error_code a failing Rule's jobs report unless the rule sets one.
const ruleErrorCode = "EMULATOR.0001"

// Rule says how the jobs of submitted work end on the phones it matches, so
// a test can make chosen phones fail, hang or print a given output. For
// each phone of a submit, the first rule (in the order added) that matches
// decides; without one, the job succeeds, or fails with CPS0005 "Phone not
// found." for a phone that does not exist (see Options.Instances). A rule
// decides for any phone id it matches, listed among the phones or not.
//
// Rules of kind reboot and reset also decide a phone's status (see
// phoneops.go): it reports 4 (starting) from the request until After has
// passed, then 2 (running) when Status is 2, 1 (stopped) when it is -1, or
// PhoneStatus when set; with Status 1 it stays starting. A reboot has no
// task, so its rules take no job fields (error_code, error_msg,
// execute_msg, listed_after, listed_after_polls).
type Rule struct {
	// Kind is what the rule matches: RuleCommand, RuleAppInstall,
	// RuleReboot or RuleReset. Required.
	Kind string `json:"kind"`
	// Command, for kind command only, is a Go regular expression (RE2
	// syntax) that the submitted command must match; it matches anywhere
	// in the command unless anchored with ^ and $. "" matches every
	// command.
	Command string `json:"command,omitempty"`
	// ObjectName, for kind app_install only, is the package name
	// (object_name) the install must have, exactly. "" matches every app.
	ObjectName string `json:"object_name,omitempty"`
	// Phones are glob patterns of instance ids, as path.Match has them
	// ("phone-bad-*", "phone-00[1-3]"): the rule matches a phone whose id
	// matches any of them. nil matches every phone; an empty list is
	// refused, as it would match none.
	Phones []string `json:"phones,omitempty"`
	// Status is the status the matching jobs end with. Required. Commands,
	// reboots and resets: StatusSucceeded (2) or StatusFailed (-1); app
	// installs:
	// StatusSucceeded (2) or StatusInstallFailed (3). Also StatusRunning
	// (1): the job never finishes; and, for installs, StatusPending (0):
	// the job never starts.
	Status *int `json:"status"`
	// ErrorCode, ErrorMsg and ExecuteMsg are what the jobs report once
	// they have ended. nil means, for success, "", "" and the output the
	// emulator makes up (as without a rule); for failure, "EMULATOR.0001",
	// "Failed by rules[N] of the KooPhone emulator." and null. ExecuteMsg
	// is at most 1024 bytes, as the API's. None of them is allowed with
	// status 0 or 1, which never end.
	ErrorCode  *string `json:"error_code,omitempty"`
	ErrorMsg   *string `json:"error_msg,omitempty"`
	ExecuteMsg *string `json:"execute_msg,omitempty"`
	// After is how long after the submit the jobs end; nil means
	// Options.JobDuration. Not allowed with status 0 or 1.
	After *Duration `json:"after,omitempty"`
	// StartAfter, for kind app_install only, is how long the jobs report
	// 0 (not started) before they report 1 (running); nil means half of
	// After. A job whose After comes first goes from 0 straight to its
	// status. Not allowed with status 0.
	StartAfter *Duration `json:"start_after,omitempty"`
	// ListedAfter and ListedAfterPolls make the matching jobs listed late
	// by the task query, as JobSpec's fields of the same names do (timed
	// from the submit): the submit's cmd_jobs names the job at once, yet
	// GET /v1/instances/tasks/{task_id} leaves it out until then. Zero
	// (both) lists it at once. Allowed with every status.
	ListedAfter      Duration `json:"listed_after"`
	ListedAfterPolls int      `json:"listed_after_polls"`
	// PhoneStatus, for kinds reboot and reset only, is the status the
	// phone reports once the reboot or reset has ended (After), such as 5
	// (shut down); nil means 2 (running) after success and 1 (stopped)
	// after failure. Not allowed with status 1, which never ends.
	PhoneStatus *int `json:"phone_status,omitempty"`
}

// rule is a validated Rule, its regular expression compiled.
type rule struct {
	Rule
	command *regexp.Regexp // nil: every command
}

// AddRules adds rules after those the emulator has, in order (the first
// that matches a phone decides). It adds all of them or, when one is
// invalid, none, with an error that names the rule and the field. Reset
// keeps the rules.
func (e *Emulator) AddRules(rules ...Rule) error {
	if err := e.addRules(rules); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// addRules is AddRules with errors that name the field (see fieldError).
func (e *Emulator) addRules(rules []Rule) error {
	compiled := make([]rule, len(rules))
	for i, r := range rules {
		c, err := compileRule(r)
		if err != nil {
			return inField(fmt.Sprintf("rules[%d]", i), err)
		}
		compiled[i] = c
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rules = append(e.rules, compiled...)
	return nil
}

// compileRule validates r and compiles its regular expression.
func compileRule(r Rule) (rule, error) {
	c := rule{Rule: r}
	install := r.Kind == RuleAppInstall
	phoneOp := r.Kind == RuleReboot || r.Kind == RuleReset
	switch {
	case r.Kind == "":
		return c, fieldErr("kind", "required: %s", ruleKinds)
	case r.Kind != RuleCommand && !install && !phoneOp:
		return c, fieldErr("kind", "%q: want %s", r.Kind, ruleKinds)
	case r.Kind != RuleCommand && r.Command != "":
		return c, fieldErr("command", "applies only to rules of kind %q (match an app by object_name, a reboot or reset by phones)", RuleCommand)
	case !install && r.ObjectName != "":
		return c, fieldErr("object_name", "applies only to rules of kind %q (match a command by command)", RuleAppInstall)
	case !install && r.StartAfter != nil:
		return c, fieldErr("start_after", "applies only to rules of kind %q: command, reboot and reset jobs report 1 (running) at once", RuleAppInstall)
	case !phoneOp && r.PhoneStatus != nil:
		return c, fieldErr("phone_status", "applies only to rules of kind %q or %q, which change a phone's status", RuleReboot, RuleReset)
	case r.Phones != nil && len(r.Phones) == 0:
		return c, fieldErr("phones", "an empty list matches no phone; leave phones out to match every phone")
	}
	if r.Command != "" {
		re, err := regexp.Compile(r.Command)
		if err != nil {
			msg := err.Error()
			var se *syntax.Error
			if errors.As(err, &se) {
				msg = se.Code.String()
			}
			return c, fieldErr("command", "invalid regular expression %q: %s", r.Command, msg)
		}
		c.command = re
	}
	for i, p := range r.Phones {
		field := fmt.Sprintf("phones[%d]", i)
		if p == "" {
			return c, fieldErr(field, "an empty pattern matches no phone")
		}
		if _, err := path.Match(p, ""); err != nil {
			return c, fieldErr(field, "invalid glob pattern %q: %v (want an instance id, or a pattern of one with * ? [a-z] \\ as path.Match has them)", p, err)
		}
	}
	if r.Kind == RuleReboot {
		if err := checkRebootRule(r); err != nil {
			return c, err
		}
	}
	if err := checkRuleOutcome(r, install); err != nil {
		return c, err
	}
	// Copies the caller cannot change: jobs share them.
	c.Phones = slices.Clone(r.Phones)
	c.Status, c.After, c.StartAfter = clone(r.Status), clone(r.After), clone(r.StartAfter)
	c.ErrorCode, c.ErrorMsg, c.ExecuteMsg = clone(r.ErrorCode), clone(r.ErrorMsg), clone(r.ExecuteMsg)
	c.PhoneStatus = clone(r.PhoneStatus)
	return c, nil
}

// checkRebootRule refuses the job fields in a reboot rule: a reboot's
// answer has no task, so they would never show.
func checkRebootRule(r Rule) error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"error_code", r.ErrorCode != nil}, {"error_msg", r.ErrorMsg != nil}, {"execute_msg", r.ExecuteMsg != nil},
		{"listed_after", r.ListedAfter != 0}, {"listed_after_polls", r.ListedAfterPolls != 0}} {
		if f.set {
			return fieldErr(f.name, "a reboot has no task, so no job to report it: leave %s out", f.name)
		}
	}
	return nil
}

func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// checkRuleOutcome checks the fields that say how the jobs end.
func checkRuleOutcome(r Rule, install bool) error {
	want := "2 (succeeded), -1 (failed) or 1 (never finishes)"
	ok := map[int]bool{StatusSucceeded: true, StatusFailed: true, StatusRunning: true}
	if install {
		want = "2 (succeeded), 3 (failed), 1 (never finishes) or 0 (never starts)"
		ok = map[int]bool{StatusSucceeded: true, StatusInstallFailed: true, StatusRunning: true, StatusPending: true}
	}
	if r.Status == nil {
		return fieldErr("status", "required: the status the jobs end with; for a rule of kind %q, %s", r.Kind, want)
	}
	if !ok[*r.Status] {
		return fieldErr("status", "%d: want, for a rule of kind %q, %s", *r.Status, r.Kind, want)
	}
	if *r.Status == StatusRunning || *r.Status == StatusPending {
		never := map[int]string{StatusRunning: "never finishes", StatusPending: "never starts"}[*r.Status]
		for _, f := range []struct {
			name string
			set  bool
		}{{"error_code", r.ErrorCode != nil}, {"error_msg", r.ErrorMsg != nil}, {"execute_msg", r.ExecuteMsg != nil}, {"after", r.After != nil},
			{"start_after", r.StartAfter != nil && *r.Status == StatusPending}, {"phone_status", r.PhoneStatus != nil}} {
			if f.set {
				return fieldErr(f.name, "a job with status %d %s, so this never applies: leave %s out", *r.Status, never, f.name)
			}
		}
	}
	switch {
	case r.After != nil && *r.After < 0:
		return fieldErr("after", "must not be negative, got %s", *r.After)
	case r.StartAfter != nil && *r.StartAfter < 0:
		return fieldErr("start_after", "must not be negative, got %s", *r.StartAfter)
	case r.ListedAfter < 0:
		return fieldErr("listed_after", "must not be negative, got %s", r.ListedAfter)
	case r.ListedAfterPolls < 0:
		return fieldErr("listed_after_polls", "must not be negative, got %d", r.ListedAfterPolls)
	case r.ExecuteMsg != nil && len(*r.ExecuteMsg) > maxExecuteMsg:
		return fieldErr("execute_msg", "must be at most %d bytes, as the API's, got %d", maxExecuteMsg, len(*r.ExecuteMsg))
	}
	return nil
}

// submission is one submit as rules see it: an adb command, an app install
// of a package, a reboot or a reset.
type submission struct {
	kind       string // a Rule kind
	command    string // commands only
	objectName string // app installs only
	// What a successful install puts on a phone (see apps.go).
	objectVersion, fileName string
}

// install reports whether the submission is an app install, whose jobs
// report the install statuses.
func (s submission) install() bool { return s.kind == RuleAppInstall }

// output is what a successful job of the submission reports as its
// execute_msg on a phone: a reset prints nothing.
func (s submission) output(instance string) string {
	switch s.kind {
	case RuleAppInstall:
		return "Success"
	case RuleReset:
		return ""
	}
	return commandOutput(s.command, instance)
}

// matches reports whether the rule decides the job of the submission on
// the phone instance.
func (r *rule) matches(s submission, instance string) bool {
	if r.Kind != s.kind ||
		(r.command != nil && !r.command.MatchString(s.command)) ||
		(r.ObjectName != "" && r.ObjectName != s.objectName) {
		return false
	}
	if r.Phones == nil {
		return true
	}
	for _, p := range r.Phones {
		if ok, _ := path.Match(p, instance); ok {
			return true
		}
	}
	return false
}

// decide makes j, a job of the submission with the default timing (After
// the job duration, StartAfter half of it for installs), end as the rule,
// rules[index], says.
func (r *rule) decide(j *JobSpec, index int, s submission) {
	j.Status = *r.Status
	j.ListedAfter, j.ListedAfterPolls = r.ListedAfter, r.ListedAfterPolls
	if r.After != nil {
		j.After = *r.After
		if s.install() {
			j.StartAfter = j.After / 2
		}
	}
	if r.StartAfter != nil {
		j.StartAfter = *r.StartAfter
	}
	switch j.Status {
	case StatusPending:
		// Final at once, with status 0: it never starts.
		j.After, j.StartAfter = 0, 0
		j.ErrorCode, j.ErrorMsg = strPtr(""), strPtr("")
		return
	case StatusRunning:
		// Never final: it reports 0 until StartAfter, then 1 for ever.
		j.After = j.StartAfter
		return
	case StatusSucceeded:
		j.ErrorCode, j.ErrorMsg, j.ExecuteMsg = strPtr(""), strPtr(""), strPtr(s.output(j.InstanceID))
	default:
		j.ErrorCode = strPtr(ruleErrorCode)
		j.ErrorMsg = strPtr(fmt.Sprintf("Failed by rules[%d] of the KooPhone emulator.", index))
	}
	if r.ErrorCode != nil {
		j.ErrorCode = r.ErrorCode
	}
	if r.ErrorMsg != nil {
		j.ErrorMsg = r.ErrorMsg
	}
	if r.ExecuteMsg != nil {
		j.ExecuteMsg = r.ExecuteMsg
	}
}
