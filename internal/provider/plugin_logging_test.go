package provider

import (
	"fmt"
	"testing"
)

func TestQuietUnseenLogs(t *testing.T) {
	for _, c := range []struct {
		environ []string
		quiet   bool
	}{
		{[]string{"HOME=/root", "PATH=/bin"}, true},
		{[]string{"TF_LOG="}, true},
		{[]string{"TF_LOG=DEBUG"}, false},
		{[]string{"TF_LOG_PROVIDER=TRACE"}, false},
		{[]string{"TF_LOG_PATH=/tmp/tf.log"}, false},
		{[]string{"TF_LOG_SDK_FRAMEWORK=INFO"}, false},
	} {
		set := map[string]string{}
		quietUnseenLogs(c.environ, func(k, v string) error { set[k] = v; return nil })
		if got := len(set) > 0; got != c.quiet {
			t.Errorf("%v: quieted = %v (%v)", c.environ, got, set)
		}
		if c.quiet && fmt.Sprint(set) != "map[TF_LOG_PROVIDER:OFF TF_LOG_SDK:OFF TF_LOG_SDK_FRAMEWORK:OFF TF_LOG_SDK_PROTO:OFF]" {
			t.Errorf("set %v", set)
		}
	}
}
