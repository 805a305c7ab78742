package policy

import (
	"fmt"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/verify"
)

// DefaultCELCostLimit is the CEL cost limit of each expression when the document sets none.
// MaxCELCostLimit is the largest a document may set.
const (
	DefaultCELCostLimit = 100_000
	MaxCELCostLimit     = 10_000_000
)

// celEnvironment declares what a CEL expression may read. It is the same for every policy.
func celEnvironment() (*cel.Env, error) {
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
}

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

// celActivation is the variables of one attestation, built once per evaluation and shared by
// every CEL rule.
type celActivation struct {
	interpreter.Activation
}

func (ec *evalContext) activation(v *view) interpreter.Activation {
	if v.act != nil {
		return v.act.Activation
	}
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
	ts := make([]any, len(v.timestamps))
	for i, t := range v.timestamps {
		ts[i] = map[string]any{"kind": t.Kind, "authority": t.Authority, "time": t.Time}
	}
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
	st := &structpb.Struct{Fields: map[string]*structpb.Value{
		"_type":         structpb.NewStringValue(v.statement.GetType()),
		"predicateType": structpb.NewStringValue(v.predicateType),
		"subject":       structpb.NewListValue(&structpb.ListValue{Values: subjects}),
		"predicate":     structpb.NewStructValue(orEmpty(v.predicate)),
	}}
	signedAt := time.Unix(0, 0).UTC()
	if v.hasSignedAt {
		signedAt = v.signedAt
	}
	act, _ := interpreter.NewActivation(map[string]any{
		"statement":     st,
		"predicate":     orEmpty(v.predicate),
		"predicateType": v.predicateType,
		"subject":       string(v.subject),
		"signer":        signerMap(v.signer),
		"timestamps":    ts,
		"signedAt":      signedAt,
		"hasSignedAt":   v.hasSignedAt,
		"now":           ec.now,
		"attestations":  ec.all,
	})
	v.act = &celActivation{act}
	return act
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

// compileCEL type-checks expression as a boolean and plans it with a cost limit.
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
	return env.Program(ast, cel.CostLimit(limit), cel.EvalOptions(cel.OptOptimize))
}
