package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	exprpb "google.golang.org/genproto/googleapis/api/expr/v1alpha1"
	"google.golang.org/protobuf/proto"
)

// PrecheckedFile is the file of a rule folder that holds the folder's CEL
// expressions parsed and type-checked in advance (Precheck): New takes an
// expression from it rather than parse and check it again. The built-in
// catalog ships one, which its tests keep current; a folder without one
// compiles as before, and so does an expression the file lacks or cannot
// give.
//
// In a new process, parsing and checking the catalog's expressions was
// most of compiling its rules: CEL's parser builds its tables as it goes,
// 33 of the 40 ms of CPU that compiling the catalog took in a scan.
const PrecheckedFile = "prechecked.binpb"

// Precheck returns the CEL expressions of rules (conditions, threshold
// groups and distinct expressions, sequence steps' conditions), each parsed
// and checked in the environment New compiles them in, encoded for
// PrecheckedFile: sorted by expression, each as the expression's length
// (uvarint), the expression, the length of its checked form (a
// google.api.expr.v1alpha1.CheckedExpr protobuf) and that form.
func Precheck(rules []*Rule) ([]byte, error) {
	env, err := newCELEnv(Config{})
	if err != nil {
		return nil, err
	}
	exprs := map[string]bool{}
	for _, r := range rules {
		for _, x := range ruleExpressions(r) {
			exprs[x] = true
		}
	}
	checked := make(map[string][]byte, len(exprs))
	for x := range exprs {
		ast, err := env.check(x)
		if err != nil {
			return nil, fmt.Errorf("detect: precheck %q: %w", x, err)
		}
		ce, err := cel.AstToCheckedExpr(ast)
		if err != nil {
			return nil, fmt.Errorf("detect: precheck %q: %w", x, err)
		}
		pb, err := proto.MarshalOptions{Deterministic: true}.Marshal(ce)
		if err != nil {
			return nil, fmt.Errorf("detect: precheck %q: %w", x, err)
		}
		checked[x] = pb
	}
	return encodePrechecked(checked), nil
}

// encodePrechecked writes a PrecheckedFile of checked (by expression).
func encodePrechecked(checked map[string][]byte) []byte {
	var out []byte
	for _, x := range slices.Sorted(maps.Keys(checked)) {
		out = binary.AppendUvarint(out, uint64(len(x)))
		out = append(out, x...)
		out = binary.AppendUvarint(out, uint64(len(checked[x])))
		out = append(out, checked[x]...)
	}
	return out
}

// prechecked is a folder's PrecheckedFile, read: the checked form of each
// expression, by expression.
type prechecked struct{ exprs map[string][]byte }

// ruleExpressions returns r's CEL expressions.
func ruleExpressions(r *Rule) []string {
	var out []string
	add := func(x string) {
		if x != "" {
			out = append(out, x)
		}
	}
	add(r.Condition)
	if t := r.Threshold; t != nil {
		add(t.Group)
		if !knownField(t.Distinct) {
			add(t.Distinct)
		}
	}
	if q := r.Sequence; q != nil {
		for _, st := range q.Steps {
			add(st.Condition)
		}
	}
	return out
}

// decodePrechecked reads a PrecheckedFile: the checked form of each
// expression, by expression.
func decodePrechecked(data []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			return nil, errors.New("detect: a truncated " + PrecheckedFile)
		}
		b := data[k : k+int(n)]
		data = data[k+int(n):]
		return b, nil
	}
	for len(data) > 0 {
		x, err := next()
		if err != nil {
			return nil, err
		}
		pb, err := next()
		if err != nil {
			return nil, err
		}
		out[string(x)] = pb
	}
	return out, nil
}

// prechecked returns the checked form of expr from c.pre, if it has one
// that loads.
func (c *celEnv) prechecked(expr string) (*cel.Ast, bool) {
	pb, ok := c.pre[expr]
	if !ok {
		return nil, false
	}
	var ce exprpb.CheckedExpr
	if err := proto.Unmarshal(pb, &ce); err != nil {
		return nil, false
	}
	ast, err := cel.CheckedExprToAstWithSource(&ce, common.NewTextSource(expr))
	if err != nil {
		return nil, false
	}
	return ast, true
}
