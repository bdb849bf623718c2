//go:build ignore

// testsummary reads `go test -json` on standard input and prints one line:
//
//	LABEL: N passed, N failed, N skipped
//
// counting top-level tests (subtests are part of their parent). Before that
// line it prints the output of every failed test, and of every package that
// failed outside a test (a build error, a panic in TestMain), so a failure
// can be read without the raw JSON. It exits 1 when anything failed or when
// no test passed at all (a suite that silently skipped everything proves
// nothing), else 0.
//
// Used by scripts/test-compat.sh: go run scripts/testsummary.go -label X < log.json
//
// And by scripts/test.sh, reading `go test -json` as it runs:
//
//	-echo results   print each package's result line as it comes ("ok  pkg 12.3s")
//	-echo all       print all the output, as `go test -v` would
//	-ran            say how many tests ran: "LABEL: N tests ran: N passed, ..."
//	-time           end the line with the time since the program started
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type key struct{ pkg, test string }

// options are the flags besides -label.
type options struct {
	echo  string // "", "results" or "all"
	ran   bool
	start time.Time // zero: no time in the summary line
}

func main() {
	started := time.Now()
	label := flag.String("label", "tests", "what to call the run in the summary line")
	echo := flag.String("echo", "", `print output as it comes: "results" (each package's result line) or "all"`)
	ran := flag.Bool("ran", false, "say how many tests ran in the summary line")
	withTime := flag.Bool("time", false, "end the summary line with the time since the start")
	flag.Parse()
	opts := options{echo: *echo, ran: *ran}
	if opts.echo != "" && opts.echo != "results" && opts.echo != "all" {
		fmt.Fprintf(os.Stderr, "testsummary: -echo %q: want results or all\n", opts.echo)
		os.Exit(2)
	}
	if *withTime {
		opts.start = started
	}
	os.Exit(summarize(os.Stdin, os.Stdout, *label, opts))
}

// isResultLine reports whether a package's output line is its result, as
// go test prints it without -json: "ok  ", "FAIL" or "?   " and the package.
func isResultLine(s string) bool {
	return strings.HasPrefix(s, "ok  \t") || strings.HasPrefix(s, "FAIL\t") || strings.HasPrefix(s, "?   \t")
}

func summarize(in io.Reader, out io.Writer, label string, opts options) int {
	output := map[key]*strings.Builder{}
	result := map[key]string{}
	var order []key
	var garbage []string
	var buildOutput strings.Builder

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// Not test2json: for example a build error printed by go test itself.
			garbage = append(garbage, string(line))
			continue
		}
		k := key{ev.Package, ev.Test}
		if _, ok := output[k]; !ok {
			output[k] = &strings.Builder{}
			order = append(order, k)
		}
		switch ev.Action {
		case "build-output":
			// Compiler errors (Go 1.24+): events with ImportPath, no Package.
			buildOutput.WriteString(ev.Output)
		case "output":
			output[k].WriteString(ev.Output)
			if opts.echo == "all" || (opts.echo == "results" && ev.Test == "" && isResultLine(ev.Output)) {
				fmt.Fprint(out, ev.Output)
			}
		case "pass", "fail", "skip":
			result[k] = ev.Action
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testsummary: reading input: %v\n", err)
		return 1
	}

	var passed, failed, skipped int
	var failedTests, failedPackages []key
	for _, k := range order {
		r := result[k]
		if k.test == "" {
			if r == "fail" {
				failedPackages = append(failedPackages, k)
			}
			continue
		}
		if r == "fail" {
			failedTests = append(failedTests, k)
		}
		if strings.Contains(k.test, "/") {
			continue // a subtest: counted through its parent
		}
		switch r {
		case "pass":
			passed++
		case "fail":
			failed++
		case "skip":
			skipped++
		}
	}
	sort.Slice(failedTests, func(i, j int) bool {
		if failedTests[i].pkg != failedTests[j].pkg {
			return failedTests[i].pkg < failedTests[j].pkg
		}
		return failedTests[i].test < failedTests[j].test
	})

	for _, k := range failedTests {
		fmt.Fprintf(out, "--- FAIL: %s (%s)\n", k.test, k.pkg)
		fmt.Fprint(out, indent(output[k].String()))
	}
	packageFailure := false
	for _, k := range failedPackages {
		if hasFailedTest(failedTests, k.pkg) {
			continue // already explained by its tests
		}
		packageFailure = true
		fmt.Fprintf(out, "--- FAIL: package %s (outside any test)\n", k.pkg)
		fmt.Fprint(out, indent(output[k].String()))
	}
	if failed > 0 || packageFailure || passed == 0 {
		fmt.Fprint(out, indent(buildOutput.String()))
		if len(garbage) > 0 {
			fmt.Fprint(out, indent(strings.Join(garbage, "\n")+"\n"))
		}
	}

	line := fmt.Sprintf("%s: %d passed, %d failed, %d skipped", label, passed, failed, skipped)
	if opts.ran {
		line = fmt.Sprintf("%s: %d tests ran: %d passed, %d failed, %d skipped", label, passed+failed+skipped, passed, failed, skipped)
	}
	if !opts.start.IsZero() {
		line += fmt.Sprintf(" (%s)", time.Since(opts.start).Round(time.Second))
	}
	fmt.Fprintln(out, line)
	if failed > 0 || packageFailure || passed == 0 {
		return 1
	}
	return 0
}

func hasFailedTest(tests []key, pkg string) bool {
	for _, k := range tests {
		if k.pkg == pkg {
			return true
		}
	}
	return false
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n") + "\n"
}
