package detect

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/checker"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/iamwatch/iamwatch"
)

// Conditions are CEL expressions (https://cel.dev) over one event. They see:
//
//   - event: the whole CloudTrail record, map(string, dyn);
//   - request, response, additional: requestParameters, responseElements and
//     additionalEventData, each an empty map when the record has none;
//   - every normalised field (see Fields) as a string: user_name, source_ip, …;
//   - trusted_accounts and admin_policies from the Config, list(string).
//
// and these functions besides CEL's standard library:
//
//   - policy_allows_any(doc, ["*", "iam:*"]) bool: an Allow statement of the
//     policy document grants one of the actions (see Policy.AllowsAny); doc
//     is a JSON string, possibly URL-encoded, or a map. An unreadable
//     document allows nothing.
//   - trust_allows_external(doc, account, trusted) bool and
//     external_principals(doc, account, trusted) list(string): a trust policy
//     lets "*" or an account other than account and trusted assume the role
//     (see Policy.ExternalPrincipals).
//   - resource_policy_external(doc, account, trusted) list(string): who a
//     resource policy (bucket, key, secret, topic, queue, repository) lets in
//     from outside account and trusted, "*" included, after the conditions
//     that pin a "*" principal to accounts or an organisation (see
//     Policy.ExternalGrantees). An unreadable document names nobody.
//   - outside_accounts(value, account, trusted) list(string): the values of
//     a share list (a string, a list, EC2's {"items": [{"userId"}, {"group"}]})
//     that are "all", "*" or another account (see OutsideAccounts).
//   - internet_ingress(request) list(map(string, dyn)): the permissions of a
//     security-group ingress request open to 0.0.0.0/0 or ::/0, each
//     {protocol, from_port, to_port, cidr} with the ports as int (see
//     InternetIngress).
//   - is_admin_policy(arn) bool: the policy ARN or name is in admin_policies.
//   - arn_name(arn) string: what follows the last "/" of an ARN.
//   - role_name(arn) string: the role an assumed-role or role ARN names.
//   - secret_name(id) string: the secret a Secrets Manager secret ID names,
//     by ARN or by name (see SecretName).
//
// A condition that fails to evaluate (a missing key, a wrong type) counts as
// not matching; Engine.Stats counts such failures. Guard optional fields
// with has(request.x).
type celEnv struct {
	env *cel.Env

	mu      sync.Mutex
	checked map[string]*cel.Ast // by expression: a rule compiles, and reads the variables of, its threshold's expressions again
	// pre are expressions checked in advance (PrecheckedFile), by
	// expression; read-only.
	pre map[string][]byte
	// parsed counts the expressions parsed and checked here, not taken
	// from pre.
	parsed int
}

func newCELEnv(cfg Config) (*celEnv, error) {
	admin := cfg.adminPolicies()
	opts := []cel.EnvOption{
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("response", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("additional", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("trusted_accounts", cel.ListType(cel.StringType)),
		cel.Variable("admin_policies", cel.ListType(cel.StringType)),
		cel.Function("policy_allows_any",
			cel.Overload("policy_allows_any_dyn_list", []*cel.Type{cel.DynType, cel.ListType(cel.StringType)}, cel.BoolType,
				cel.BinaryBinding(func(doc, actions ref.Val) ref.Val {
					p, err := ParsePolicy(doc.Value())
					if err != nil {
						return types.False
					}
					list, err := toStrings(actions)
					if err != nil {
						return types.NewErr("policy_allows_any: %v", err)
					}
					return types.Bool(p.AllowsAny(list))
				}))),
		cel.Function("trust_allows_external",
			cel.Overload("trust_allows_external_dyn_string_list", []*cel.Type{cel.DynType, cel.StringType, cel.ListType(cel.StringType)}, cel.BoolType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					ext, err := externalPrincipals(args)
					if err != nil {
						return types.NewErr("trust_allows_external: %v", err)
					}
					return types.Bool(len(ext) > 0)
				}))),
		cel.Function("external_principals",
			cel.Overload("external_principals_dyn_string_list", []*cel.Type{cel.DynType, cel.StringType, cel.ListType(cel.StringType)}, cel.ListType(cel.StringType),
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					ext, err := externalPrincipals(args)
					if err != nil {
						return types.NewErr("external_principals: %v", err)
					}
					return types.DefaultTypeAdapter.NativeToValue(ext)
				}))),
		cel.Function("resource_policy_external",
			cel.Overload("resource_policy_external_dyn_string_list", []*cel.Type{cel.DynType, cel.StringType, cel.ListType(cel.StringType)}, cel.ListType(cel.StringType),
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					if len(args) != 3 {
						return types.NewErr("resource_policy_external: want 3 arguments, got %d", len(args))
					}
					account, _ := args[1].Value().(string)
					trusted, err := toStrings(args[2])
					if err != nil {
						return types.NewErr("resource_policy_external: %v", err)
					}
					ext := []string{}
					if p, err := ParsePolicy(args[0].Value()); err == nil {
						ext = append(ext, p.ExternalGrantees(account, trusted)...)
					}
					return types.DefaultTypeAdapter.NativeToValue(ext)
				}))),
		cel.Function("outside_accounts",
			cel.Overload("outside_accounts_dyn_string_list", []*cel.Type{cel.DynType, cel.StringType, cel.ListType(cel.StringType)}, cel.ListType(cel.StringType),
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					if len(args) != 3 {
						return types.NewErr("outside_accounts: want 3 arguments, got %d", len(args))
					}
					account, _ := args[1].Value().(string)
					trusted, err := toStrings(args[2])
					if err != nil {
						return types.NewErr("outside_accounts: %v", err)
					}
					out := append([]string{}, OutsideAccounts(args[0].Value(), account, trusted)...)
					return types.DefaultTypeAdapter.NativeToValue(out)
				}))),
		cel.Function("internet_ingress",
			cel.Overload("internet_ingress_dyn", []*cel.Type{cel.DynType}, cel.ListType(cel.MapType(cel.StringType, cel.DynType)),
				cel.UnaryBinding(func(req ref.Val) ref.Val {
					out := []map[string]any{}
					for _, in := range InternetIngress(req.Value()) {
						out = append(out, map[string]any{"protocol": in.Protocol, "from_port": int64(in.FromPort), "to_port": int64(in.ToPort), "cidr": in.CIDR})
					}
					return types.DefaultTypeAdapter.NativeToValue(out)
				}))),
		cel.Function("is_admin_policy",
			cel.Overload("is_admin_policy_string", []*cel.Type{cel.StringType}, cel.BoolType,
				cel.UnaryBinding(func(arn ref.Val) ref.Val {
					s, _ := arn.Value().(string)
					return types.Bool(isAdminPolicy(admin, s))
				}))),
		cel.Function("arn_name",
			cel.Overload("arn_name_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(arn ref.Val) ref.Val {
					s, _ := arn.Value().(string)
					return types.String(lastSegment(s))
				}))),
		cel.Function("secret_name",
			cel.Overload("secret_name_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(id ref.Val) ref.Val {
					s, _ := id.Value().(string)
					return types.String(SecretName(s))
				}))),
		cel.Function("role_name",
			cel.Overload("role_name_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(arn ref.Val) ref.Val {
					s, _ := arn.Value().(string)
					return types.String(RoleName(s))
				}))),
	}
	for _, f := range Fields {
		opts = append(opts, cel.Variable(f, cel.StringType))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("cel environment: %w", err)
	}
	return &celEnv{env: env, checked: map[string]*cel.Ast{}}, nil
}

// check parses and type-checks expr, once for each expression. Safe for
// concurrent use.
func (c *celEnv) check(expr string) (*cel.Ast, error) {
	c.mu.Lock()
	ast, ok := c.checked[expr]
	c.mu.Unlock()
	if ok {
		return ast, nil
	}
	ast, pre := c.prechecked(expr)
	if !pre {
		var iss *cel.Issues
		if ast, iss = c.env.Compile(expr); iss.Err() != nil {
			return nil, iss.Err()
		}
	}
	c.mu.Lock()
	c.checked[expr] = ast
	if !pre {
		c.parsed++
	}
	c.mu.Unlock()
	return ast, nil
}

func toStrings(v ref.Val) ([]string, error) {
	n, err := v.ConvertToNative(reflect.TypeFor[[]string]())
	if err != nil {
		return nil, err
	}
	return n.([]string), nil
}

func externalPrincipals(args []ref.Val) ([]string, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("want 3 arguments, got %d", len(args))
	}
	p, err := ParsePolicy(args[0].Value())
	if err != nil {
		return []string{}, nil //nolint:nilerr // an unreadable document names nobody
	}
	account, _ := args[1].Value().(string)
	trusted, err := toStrings(args[2])
	if err != nil {
		return nil, err
	}
	ext := p.ExternalPrincipals(account, trusted)
	if ext == nil {
		ext = []string{}
	}
	return ext, nil
}

// MaxCost bounds a condition or group expression, in CEL cost units
// (about one per comparison, variable read or comprehension step; string
// and list operations cost in proportion to their size). A rule whose
// estimated cost exceeds it is refused when loaded (and by `rules
// validate`); an evaluation of an iterating expression that reaches it at
// run time is stopped, and the event is reported as not evaluated by that
// rule (see hasComprehension for the others).
const MaxCost = 1_000_000

// assumedSize is the size the cost estimate assumes for every string, list
// and map of an event whose size CEL cannot know: a typical record's. Two
// nested comprehensions over event data fit MaxCost; three, or three over
// literal lists of 100, do not. At run time MaxCost took 0.67 s on the
// development machine (BenchmarkConditionAtCostLimit).
const assumedSize = 100

// sizeEstimator gives the cost estimate assumedSize for event data.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: assumedSize}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// interruptEvery is how many comprehension steps run between checks of the
// evaluation's context.
const interruptEvery = 100

// compile compiles expr, which must have type want and cost at most
// MaxCost by CEL's estimate. The program stops at MaxCost and when its
// context ends (ContextEval).
func (c *celEnv) compile(expr string, want *cel.Type) (cel.Program, error) {
	ast, err := c.check(expr)
	if err != nil {
		return nil, err
	}
	if !ast.OutputType().IsExactType(want) && !ast.OutputType().IsExactType(cel.DynType) {
		return nil, fmt.Errorf("expression has type %s, want %s", ast.OutputType(), want)
	}
	est, err := c.env.EstimateCost(ast, sizeEstimator{})
	if err != nil {
		return nil, fmt.Errorf("estimate cost: %w", err)
	}
	if est.Max > MaxCost {
		return nil, fmt.Errorf("too costly: CEL estimates up to %d cost units an event (taking event lists, maps and strings of %d elements), the limit is %d: nest fewer comprehensions (all, exists, map, filter) or iterate over less", est.Max, assumedSize, MaxCost)
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if hasComprehension(ast) {
		opts = append(opts, cel.CostLimit(MaxCost), cel.InterruptCheckFrequency(interruptEvery))
	}
	prg, err := c.env.Program(ast, opts...)
	if err != nil {
		return nil, err
	}
	return prg, nil
}

// hasComprehension reports whether ast iterates (all, exists, exists_one,
// map, filter): only an iteration makes an evaluation's cost grow faster
// than the event's size, so only such a program is metered at run time
// (MaxCost, and the context checked every interruptEvery steps). Without
// one, an evaluation is a fixed number of steps over a record of at most
// MaxRecordBytes. Metering every step of the others cost a default scan 2%
// of its CPU on a trail of people's calls (`gentrail -profile probed`, 100k
// records: 6.98 against 6.83 CPU-s, six interleaved runs) and 1% on the
// services trail of `make bench`.
func hasComprehension(ast *cel.Ast) bool {
	nav := celast.NavigateAST(ast.NativeRep())
	return len(celast.MatchDescendants(nav, celast.KindMatcher(celast.ComprehensionKind))) > 0
}

// fieldChoice recognises the group expressions that only read decoded
// fields, FIELD and A != "" ? A : B (nine built-in rules group by
// `principal_arn != "" ? principal_arn : user_name`), and returns the fields
// read: [FIELD] or [A, B]; nil for any other expression. Through CEL they
// were most of the rules' evaluation on a trail of denied calls, every one a
// hit of unauthorized-api-calls (`gentrail -profile probed`, 100k records:
// matchRule 0.45 → 0.10 CPU-s in a profile of the default scan).
func (c *celEnv) fieldChoice(expr string) []string {
	ast, err := c.check(expr)
	if err != nil {
		return nil
	}
	field := func(e celast.Expr) string {
		if e.Kind() == celast.IdentKind && knownField(e.AsIdent()) {
			return e.AsIdent()
		}
		return ""
	}
	root := ast.NativeRep().Expr()
	if f := field(root); f != "" {
		return []string{f}
	}
	if root.Kind() != celast.CallKind || root.AsCall().FunctionName() != operators.Conditional {
		return nil
	}
	args := root.AsCall().Args()
	if len(args) != 3 || args[0].Kind() != celast.CallKind || args[0].AsCall().FunctionName() != operators.NotEquals {
		return nil
	}
	test := args[0].AsCall().Args()
	a, b := field(args[1]), field(args[2])
	if len(test) != 2 || a == "" || b == "" || field(test[0]) != a ||
		test[1].Kind() != celast.LiteralKind || test[1].AsLiteral() != types.String("") {
		return nil
	}
	return []string{a, b}
}

// compileDistinct compiles a threshold's distinct expression: a string
// or a list of strings (see distinctValues).
func (c *celEnv) compileDistinct(expr string) (cel.Program, error) {
	ast, err := c.check(expr)
	if err != nil {
		return nil, err
	}
	want := cel.StringType
	if t := ast.OutputType(); t.IsExactType(cel.ListType(cel.StringType)) || t.IsExactType(cel.ListType(cel.DynType)) {
		want = t
	}
	return c.compile(expr, want)
}

// recordVariables are the variables that read the event's record (its
// JSON parsed): an expression without them needs only the decoded fields.
var recordVariables = []string{"event", "request", "response", "additional"}

// variables returns the variables expr (already checked to compile; ""
// reads nothing) refers to, sorted; ok is false when it does not compile.
func (c *celEnv) variables(expr string) (names []string, ok bool) {
	if expr == "" {
		return nil, true
	}
	ast, err := c.check(expr)
	if err != nil {
		return nil, false
	}
	for _, r := range ast.NativeRep().ReferenceMap() {
		if r.Name != "" && !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	slices.Sort(names)
	return names, true
}

// fieldsOnly returns the normalised fields (see Fields) exprs read, when
// they read no record variable; ok is false when one does (or does not
// compile).
func (c *celEnv) fieldsOnly(exprs ...string) (fields []string, ok bool) {
	for _, x := range exprs {
		names, ok := c.variables(x)
		if !ok || slices.ContainsFunc(names, func(n string) bool { return slices.Contains(recordVariables, n) }) {
			return nil, false
		}
		for _, n := range names {
			if knownField(n) && !slices.Contains(fields, n) {
				fields = append(fields, n)
			}
		}
	}
	return fields, true
}

// errOverBudget marks an evaluation stopped at MaxCost.
var errOverBudget = fmt.Errorf("over the cost limit of %d units", MaxCost)

// evalError sorts an evaluation error: the context's error when the
// evaluation was interrupted by ctx, errOverBudget when it was stopped at
// MaxCost, else nil (an ordinary failure, counted as no match).
func evalError(ctx context.Context, err error) error {
	var ce interpreter.EvalCancelledError
	switch {
	case errors.As(err, &ce) && ce.Cause == interpreter.CostLimitExceeded:
		return errOverBudget
	case errors.Is(err, interpreter.InterruptError{}) || errors.As(err, &ce):
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// activation resolves the condition variables for one event, lazily.
type activation struct {
	ev      *iamwatch.Event
	rec     *record
	trusted []string
	admin   []string
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "event":
		return a.rec.whole(), true
	case "request":
		return a.rec.object("requestParameters"), true
	case "response":
		return a.rec.object("responseElements"), true
	case "additional":
		return a.rec.object("additionalEventData"), true
	case "trusted_accounts":
		return a.trusted, true
	case "admin_policies":
		return a.admin, true
	}
	if knownField(name) {
		return fieldValue(a.ev, name), true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }
