package policy

import "fmt"

// MaxPolicyDepth caps how deeply a policy document may nest: flow collections ("[", "{") and
// block levels (indentation and "- " entries) together. A real policy nests about eight deep.
// The YAML parser's cost grows with the square of the nesting depth, so Load measures the
// depth first, in one linear pass over the bytes, and refuses a deeper document with a
// *LoadError wrapping ErrPolicyTooDeep before any parsing.
const MaxPolicyDepth = 64

// checkDepth scans data once and returns a *LoadError at the first place where the nesting
// depth exceeds MaxPolicyDepth. It over-counts rather than under-counts: brackets inside quoted
// or block scalars count too, so it can only refuse more than the parser would nest, never less.
func checkDepth(data []byte) error {
	var indents []int // the stack of open block indentation levels
	flow := 0         // open "[" and "{"
	line, col := 1, 0
	atLineStart, indent := true, 0
	tooDeep := func(depth int) error {
		return &LoadError{Line: line, Column: col, Msg: fmt.Sprintf("nesting depth %d exceeds %d", depth, MaxPolicyDepth), Err: ErrPolicyTooDeep}
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		col++
		if c == '\n' {
			line, col = line+1, 0
			atLineStart, indent = true, 0
			continue
		}
		if atLineStart {
			switch {
			case c == ' ' || c == '\t':
				indent++
				continue
			case (c == '-' || c == '?' || c == ':') && i+1 < len(data) && (data[i+1] == ' ' || data[i+1] == '\n'):
				// A sequence entry or complex key opens a level at its own column; what follows it sits deeper.
				indents = pushIndent(indents, indent)
				indent++
				continue
			case c == '\r' || c == '#':
				// A blank or comment line opens nothing; the rest of it is scanned for brackets.
			default:
				atLineStart = false
				indents = pushIndent(indents, indent)
			}
			if d := len(indents) + flow; d > MaxPolicyDepth {
				return tooDeep(d)
			}
		}
		switch c {
		case '[', '{':
			flow++
			if d := len(indents) + flow; d > MaxPolicyDepth {
				return tooDeep(d)
			}
		case ']', '}':
			if flow > 0 {
				flow--
			}
		}
	}
	return nil
}

// pushIndent closes the block levels at or deeper than indent and opens one at indent.
func pushIndent(stack []int, indent int) []int {
	for len(stack) > 0 && stack[len(stack)-1] >= indent {
		stack = stack[:len(stack)-1]
	}
	return append(stack, indent)
}
