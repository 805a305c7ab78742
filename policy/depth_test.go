package policy_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/provkit/provkit/policy"
)

func TestLoadRefusesDeepNesting(t *testing.T) {
	deepBlock := header + "rules:\n  - name: a\n    cel: {expression: \"true\"}\nx:\n"
	for i := 0; i < policy.MaxPolicyDepth+1; i++ {
		deepBlock += strings.Repeat(" ", i+1) + "k:\n"
	}
	cases := []struct {
		name string
		doc  []byte
	}{
		{"flow sequences, 200 KB", nestedPolicy()},
		{"flow mappings", []byte(header + "rules: " + strings.Repeat("{a: ", 100) + "1" + strings.Repeat("}", 100) + "\n")},
		{"block mappings", []byte(deepBlock)},
		{"sequence entries on one line", []byte(header + "rules:\n" + strings.Repeat("- ", 100) + "x\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := policy.Load(bytes.NewReader(c.doc))
			var le *policy.LoadError
			if !errors.Is(err, policy.ErrPolicyTooDeep) || !errors.Is(err, policy.ErrInvalidPolicy) || !errors.As(err, &le) || le.Line == 0 {
				t.Fatalf("Load: %v, want a *LoadError with a line wrapping ErrPolicyTooDeep", err)
			}
		})
	}
}

func TestLoadAcceptsNestingUpToTheLimit(t *testing.T) {
	// The header mapping, rules, the rule, slsa and externalParameters take five levels.
	n := policy.MaxPolicyDepth - 5
	doc := header + "rules:\n  - name: a\n    slsa:\n      externalParameters: {k: " + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + "}\n"
	if _, err := policy.Load(strings.NewReader(doc)); err != nil {
		t.Fatalf("Load refused a document %d deep: %v", policy.MaxPolicyDepth, err)
	}
}
