package policy

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// DefaultCELCostLimit is the CEL cost limit of each expression when the document sets none.
// MaxCELCostLimit is the largest a document may set.
const (
	DefaultCELCostLimit = 100_000
	MaxCELCostLimit     = 10_000_000
)

// celEnvironment declares what a CEL expression may read. It is the same for every policy,
// made once and shared: a cel.Env is safe for concurrent use.
var celEnvironment = sync.OnceValues(func() (*cel.Env, error) {
	obj := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable("statement", obj),
		cel.Variable("predicate", obj),
		cel.Variable("predicateType", cel.StringType),
		cel.Variable("subject", cel.StringType),
		cel.Variable("signer", obj),
		cel.Variable("timestamps", cel.ListType(obj)),
		cel.Variable("signedAt", cel.TimestampType),
		cel.Variable("hasSignedAt", cel.BoolType),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("attestations", cel.ListType(obj)),
	)
})

// celRule evaluates a boolean CEL expression on each attestation it considers: all must hold
// (match: all, the default) or one (match: any). An expression that errors, exceeds its cost
// limit or returns a non-boolean fails the rule as an evaluation error.
type celRule struct {
	expr    string
	prg     cel.Program
	types   []string
	any     bool
	message string
}

func (r *celRule) eval(ec *evalContext) check {
	views := ec.views
	if len(r.types) > 0 {
		views = ec.ofType(r.types...)
	}
	if len(views) == 0 {
		return fail("no attestations to evaluate the expression on", Evidence{Attestation: -1, Message: "predicate types " + quoteList(r.types)})
	}
	var held, failed []Evidence
	for _, v := range views {
		out, _, err := r.prg.Eval(ec.activation(v))
		ev := Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "cel", Value: r.expr}
		if err != nil {
			return broken(fmt.Errorf("CEL on attestation %d: %w", v.index, err), ev)
		}
		b, ok := out.(types.Bool)
		if !ok {
			return broken(fmt.Errorf("CEL on attestation %d returned %s, not bool", v.index, out.Type()), ev)
		}
		if b {
			ev.Message = "true"
			held = append(held, ev)
		} else {
			ev.Message = "false"
			failed = append(failed, ev)
		}
	}
	msg := r.message
	if msg == "" {
		msg = "expression " + r.expr
	}
	switch {
	case r.any && len(held) > 0:
		return pass(fmt.Sprintf("holds for %d of %d attestation(s)", len(held), len(views)), held...)
	case r.any:
		return fail(msg+": false for every attestation", failed...)
	case len(failed) > 0:
		return fail(fmt.Sprintf("%s: false for %d of %d attestation(s)", msg, len(failed), len(views)), failed...)
	}
	return pass(fmt.Sprintf("holds for all %d attestation(s)", len(views)), held...)
}

// celActivation is the variables of one attestation. Each is built on first use and kept for
// the rest of the evaluation, so CEL rules share the work and pay only for what they read.
type celActivation struct {
	ec        *evalContext
	v         *view
	statement ref.Val
	predicate ref.Val
	signer    ref.Val
	ts        ref.Val
}

// ResolveName implements interpreter.Activation.
func (a *celActivation) ResolveName(name string) (any, bool) {
	v := a.v
	switch name {
	case "statement":
		if a.statement == nil {
			a.statement = a.ec.adapter.NativeToValue(statementStruct(v))
		}
		return a.statement, true
	case "predicate":
		if a.predicate == nil {
			a.predicate = a.ec.adapter.NativeToValue(orEmpty(v.predicate))
		}
		return a.predicate, true
	case "predicateType":
		return v.predicateType, true
	case "subject":
		return string(v.subject), true
	case "signer":
		if a.signer == nil {
			a.signer = a.ec.adapter.NativeToValue(signerMap(v.signer))
		}
		return a.signer, true
	case "timestamps":
		if a.ts == nil {
			ts := make([]any, len(v.timestamps))
			for i, t := range v.timestamps {
				ts[i] = map[string]any{"kind": t.Kind, "authority": t.Authority, "time": t.Time}
			}
			a.ts = a.ec.adapter.NativeToValue(ts)
		}
		return a.ts, true
	case "signedAt":
		if v.hasSignedAt {
			return v.signedAt, true
		}
		return time.Unix(0, 0).UTC(), true
	case "hasSignedAt":
		return v.hasSignedAt, true
	case "now":
		a.ec.changesAt(a.ec.now)
		return a.ec.now, true
	case "attestations":
		return a.ec.attestations(), true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *celActivation) Parent() interpreter.Activation { return nil }

func (ec *evalContext) activation(v *view) interpreter.Activation {
	if v.act == nil {
		v.act = &celActivation{ec: ec, v: v}
	}
	return v.act
}

// attestations is the CEL list of every attestation about the subject.
func (ec *evalContext) attestations() []any {
	if ec.all == nil {
		ec.all = make([]any, len(ec.views))
		for i, w := range ec.views {
			ec.all[i] = map[string]any{
				"index":         int64(w.index),
				"predicateType": w.predicateType,
				"subject":       string(w.subject),
				"predicate":     orEmpty(w.predicate),
				"signer":        signerMap(w.signer),
			}
		}
	}
	return ec.all
}

// statementStruct is the statement as JSON-shaped CEL data, with the field names of its JSON form.
func statementStruct(v *view) *structpb.Struct {
	subjects := make([]*structpb.Value, 0, len(v.statement.GetSubject()))
	for _, s := range v.statement.GetSubject() {
		dg := make(map[string]*structpb.Value, len(s.GetDigest()))
		for k, d := range s.GetDigest() {
			dg[k] = structpb.NewStringValue(d)
		}
		subjects = append(subjects, structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{
			"name":   structpb.NewStringValue(s.GetName()),
			"digest": structpb.NewStructValue(&structpb.Struct{Fields: dg}),
		}}))
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{
		"_type":         structpb.NewStringValue(v.statement.GetType()),
		"predicateType": structpb.NewStringValue(v.predicateType),
		"subject":       structpb.NewListValue(&structpb.ListValue{Values: subjects}),
		"predicate":     structpb.NewStructValue(orEmpty(v.predicate)),
	}}
}

func orEmpty(s *structpb.Struct) *structpb.Struct {
	if s == nil {
		return &structpb.Struct{}
	}
	return s
}

// signerMap is the CEL view of a signer: keyId, or issuer, subjectAlternativeName and
// extensions (by the JSON names of sigstore-go's certificate.Extensions).
func signerMap(s verify.Signer) map[string]any {
	m := map[string]any{"keyId": s.KeyID, "issuer": "", "subjectAlternativeName": "", "extensions": map[string]any{}}
	if c := s.Certificate; c != nil {
		m["issuer"], m["subjectAlternativeName"] = c.Issuer, c.SubjectAlternativeName
		ext := make(map[string]any, len(extensionFields))
		for name, get := range extensionFields {
			ext[name] = get(&c.Extensions)
		}
		m["extensions"] = ext
	}
	return m
}

// sizeBound tells CEL's cost estimator the largest any value an expression reads can be: every
// string and list comes from a verified bundle, which provkit never reads beyond
// provenance.MaxBundleBytes. The attestations list grows with the caller's results, so it is
// left unbounded.
type sizeBound struct{}

func (sizeBound) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (sizeBound) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) > 0 && p[0] != "attestations" {
		return &cost.SizeEstimate{Min: 0, Max: provenance.MaxBundleBytes}
	}
	return nil
}

// compileCEL type-checks expression as a boolean and plans it with a cost limit. When CEL's
// static estimate proves the worst-case cost within the limit, the program runs without
// per-step cost tracking, which would otherwise be half the price of a simple rule; every other
// program is tracked and stopped at the limit.
func compileCEL(env *cel.Env, expression string, limit uint64) (cel.Program, error) {
	if strings.TrimSpace(expression) == "" {
		return nil, fmt.Errorf("empty expression")
	}
	ast, iss := env.Compile(expression)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("expression returns %s, not bool", ast.OutputType())
	}
	if est, err := env.EstimateCost(ast, sizeBound{}); err == nil && est.Max <= limit {
		return env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	}
	return env.Program(ast, cel.CostLimit(limit), cel.EvalOptions(cel.OptOptimize))
}
