package deploy_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfnevents "github.com/awslabs/goformation/v7/cloudformation/events"
	cfnlambda "github.com/awslabs/goformation/v7/cloudformation/lambda"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

var update = flag.Bool("update", false, "rewrite the generated event rules of template.yaml")

// scenarios are parameter sets the template is checked under: the defaults,
// and everything optional switched the other way.
var scenarios = map[string]map[string]any{
	"defaults": {},
	"everything": {
		"AlertEmail": "security@example.com", "PollSchedule": "6h", "ExportSchedule": "weekly",
		"TrailBucketName": "org-trail", "StoreIdentityHistory": "false", "SSORegion": "eu-west-1",
		"TrailKmsKeyArn": trailKey, "PollAccounts": "444455556666,777788889999", "OrganizationId": "o-a1b2c3d4e5",
	},
	"nothing optional": {"PollSchedule": "none", "ExportSchedule": "none", "StoreIdentityHistory": "true"},
}

// pollerRole is the iamwatch poller's role, as forwarder.yaml's PollerRoleArn.
const pollerRole = "arn:aws:iam::111122223333:role/iamwatch-PollerRole-1A2B3C4D5E6F"

// trailKey is the "everything" scenario's SSE-KMS key of the trail bucket.
const trailKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// raw returns the template as JSON with intrinsic functions in long form,
// unresolved.
func raw(t *testing.T, b []byte) map[string]any {
	t.Helper()
	j, err := intrinsics.ProcessYAML(b, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// conditions evaluates the template's conditions for params (the subset
// of the condition language the templates use: Equals, Not, And, Or,
// Condition, Ref to parameters).
func conditions(t *testing.T, r map[string]any, params map[string]any) map[string]bool {
	t.Helper()
	paramValue := func(name string) any {
		switch name {
		case "AWS::Region":
			return "us-east-1"
		case "AWS::AccountId":
			return "123456789012" // what goformation resolves it to.
		}
		if v, ok := params[name]; ok {
			return v
		}
		p, _ := r["Parameters"].(map[string]any)[name].(map[string]any)
		if p == nil {
			t.Fatalf("condition refers to unknown parameter %s", name)
		}
		return p["Default"]
	}
	conds, _ := r["Conditions"].(map[string]any)
	out := map[string]bool{}
	var eval func(v any) any
	var cond func(name string) bool
	var boolOf func(v any) bool
	cond = func(name string) bool {
		if v, ok := out[name]; ok {
			return v
		}
		c, ok := conds[name]
		if !ok {
			t.Fatalf("unknown condition %s", name)
		}
		b, ok := eval(c).(bool)
		if !ok {
			t.Fatalf("condition %s is not boolean", name)
		}
		out[name] = b
		return b
	}
	eval = func(v any) any {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return v
		}
		for k, arg := range m {
			args, _ := arg.([]any)
			switch k {
			case "Ref":
				return fmt.Sprint(paramValue(arg.(string)))
			case "Condition":
				return cond(arg.(string))
			case "Fn::Equals":
				return fmt.Sprint(eval(args[0])) == fmt.Sprint(eval(args[1]))
			case "Fn::Not":
				return !boolOf(eval(args[0]))
			case "Fn::And", "Fn::Or":
				res := k == "Fn::And"
				for _, a := range args {
					if k == "Fn::And" {
						res = res && boolOf(eval(a))
					} else {
						res = res || boolOf(eval(a))
					}
				}
				return res
			}
			t.Fatalf("unsupported condition function %s", k)
		}
		return nil
	}
	// goformation writes a short-form !Condition inside Not/And/Or as the
	// bare condition name.
	boolOf = func(v any) bool {
		if s, ok := v.(string); ok {
			return cond(s)
		}
		b, ok := v.(bool)
		if !ok {
			t.Fatalf("condition operand %v is not boolean", v)
		}
		return b
	}
	for name := range conds {
		cond(name)
	}
	return out
}

// parse parses b with goformation for one scenario: parameters overridden,
// conditions evaluated for Fn::If, resources whose condition is false
// removed; Ref, GetAtt and Sub of resources become "ref:X", "getatt:X.Attr"
// and "sub:…" strings the tests can compare.
func parse(t *testing.T, b []byte, params map[string]any) *cloudformation.Template {
	t.Helper()
	r := raw(t, b)
	conds := conditions(t, r, params)
	handlers := map[string]intrinsics.IntrinsicHandler{
		"Ref": func(name string, input, template any) any {
			s, _ := input.(string)
			if v := intrinsics.Ref(name, input, template); v != nil || strings.HasPrefix(s, "AWS::") {
				return v
			}
			return "ref:" + s
		},
		"Fn::GetAtt": func(_ string, input, _ any) any {
			if l, ok := input.([]any); ok && len(l) == 2 {
				return fmt.Sprintf("getatt:%v.%v", l[0], l[1])
			}
			return fmt.Sprint("getatt:", input)
		},
		"Fn::Sub": func(_ string, input, _ any) any {
			if l, ok := input.([]any); ok {
				return fmt.Sprint("sub:", l[0])
			}
			return fmt.Sprint("sub:", input)
		},
		"Fn::If": func(_ string, input, _ any) any {
			l := input.([]any)
			if conds[l[0].(string)] {
				return l[1]
			}
			return l[2]
		},
	}
	tpl, err := goformation.ParseYAMLWithOptions(b, &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: handlers, ParameterOverrides: params})
	if err != nil {
		t.Fatalf("goformation: %v", err)
	}
	for name, res := range tpl.Resources {
		c := reflect.ValueOf(res).Elem().FieldByName("AWSCloudFormationCondition").String()
		if c != "" && !conds[c] {
			delete(tpl.Resources, name)
		}
	}
	return tpl
}

// TestParse: both templates parse with goformation, which rejects unknown
// resource types and unknown properties, under every scenario.
func TestParse(t *testing.T) {
	for name, params := range scenarios {
		t.Run(name, func(t *testing.T) {
			tpl := parse(t, deploy.Template, params)
			if len(tpl.Resources) < 40 {
				t.Errorf("template has %d resources; expected the whole stack", len(tpl.Resources))
			}
		})
	}
	parse(t, deploy.Forwarder, nil)
	parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"})
}

// TestReferences: every Ref, GetAtt, Sub variable, condition, mapping and
// DependsOn names something that exists, and every parameter and condition
// is used.
func TestReferences(t *testing.T) {
	for name, b := range map[string][]byte{"template": deploy.Template, "forwarder": deploy.Forwarder} {
		t.Run(name, func(t *testing.T) {
			r := raw(t, b)
			params, _ := r["Parameters"].(map[string]any)
			conds, _ := r["Conditions"].(map[string]any)
			mappings, _ := r["Mappings"].(map[string]any)
			resources := r["Resources"].(map[string]any)
			usedParams, usedConds := map[string]bool{}, map[string]bool{}
			refOK := func(where, n string) {
				switch {
				case strings.HasPrefix(n, "AWS::"):
				case params[n] != nil:
					usedParams[n] = true
				case resources[n] != nil:
				default:
					t.Errorf("%s: reference to unknown %q", where, n)
				}
			}
			subVar := regexp.MustCompile(`\$\{([^!}][^}]*)\}`)
			var walk func(where string, v any)
			walk = func(where string, v any) {
				switch v := v.(type) {
				case map[string]any:
					for k, x := range v {
						switch k {
						case "Ref":
							refOK(where, x.(string))
						case "Fn::GetAtt":
							var res string
							if l, ok := x.([]any); ok {
								res = l[0].(string)
							} else {
								res, _, _ = strings.Cut(x.(string), ".")
							}
							if resources[res] == nil {
								t.Errorf("%s: GetAtt of unknown resource %v", where, res)
							}
						case "Fn::Sub":
							s, _ := x.(string)
							var vars map[string]any // Fn::Sub's own variables.
							if l, ok := x.([]any); ok {
								s = l[0].(string)
								if len(l) > 1 {
									vars, _ = l[1].(map[string]any)
								}
							}
							for _, m := range subVar.FindAllStringSubmatch(s, -1) {
								n, _, _ := strings.Cut(m[1], ".")
								if _, ok := vars[n]; !ok {
									refOK(where, n)
								}
							}
						case "Fn::If":
							c := x.([]any)[0].(string)
							if conds[c] == nil {
								t.Errorf("%s: Fn::If on unknown condition %s", where, c)
							}
							usedConds[c] = true
						case "Condition":
							if c, ok := x.(string); ok {
								if conds[c] == nil {
									t.Errorf("%s: unknown condition %s", where, c)
								}
								usedConds[c] = true
							}
						case "Fn::Not", "Fn::And", "Fn::Or":
							// goformation writes a short-form !Condition here as the bare name.
							for _, a := range x.([]any) {
								if c, ok := a.(string); ok && conds[c] != nil {
									usedConds[c] = true
								}
							}
						case "Fn::FindInMap":
							if mappings[x.([]any)[0].(string)] == nil {
								t.Errorf("%s: unknown mapping %v", where, x.([]any)[0])
							}
						}
						walk(where, x)
					}
				case []any:
					for _, x := range v {
						walk(where, x)
					}
				}
			}
			for n, res := range resources {
				walk(n, res)
				switch d := res.(map[string]any)["DependsOn"].(type) {
				case string:
					if resources[d] == nil {
						t.Errorf("%s: DependsOn unknown %s", n, d)
					}
				}
			}
			walk("Conditions", conds)
			walk("Outputs", r["Outputs"])
			for p := range params {
				if !usedParams[p] {
					t.Errorf("parameter %s is never used", p)
				}
			}
			for c := range conds {
				if !usedConds[c] {
					t.Errorf("condition %s is never used", c)
				}
			}
		})
	}
}

// codeActions reads the AWS calls of an adapter from its source: the method
// names of its interface, as IAM actions.
func codeActions(t *testing.T, a deploy.Adapter) []string {
	t.Helper()
	fset := token.NewFileSet()
	dir := filepath.Join("..", a.Dir)
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("adapter %s: no Go files (%v)", a.Dir, err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("adapter %s: %v", a.Dir, err)
		}
		files = append(files, f)
	}
	var out []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || ts.Name.Name != a.Interface {
				return true
			}
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				return true
			}
			for _, m := range it.Methods.List {
				for _, name := range m.Names {
					out = append(out, a.Service+":"+name.Name)
				}
				if len(m.Names) == 0 {
					t.Errorf("adapter %s: %s embeds an interface; list the calls", a.Dir, a.Interface)
				}
			}
			return false
		})
	}
	if len(out) == 0 {
		t.Fatalf("adapter %s: no interface %s with methods", a.Dir, a.Interface)
	}
	return out
}

// iamAction maps API calls whose IAM action has another name.
var iamAction = map[string]string{"s3:ListObjectsV2": "s3:ListBucket", "s3:HeadObject": "s3:GetObject"}

// needsNoPermission are calls IAM does not control.
var needsNoPermission = map[string]bool{"sts:GetCallerIdentity": true}

// unscopable are actions without resource-level permissions (Resource "*").
var unscopable = map[string]bool{"cloudtrail:LookupEvents": true}

// statements returns the Allow statements of a role's inline policies.
func statements(t *testing.T, role any) []map[string]any {
	t.Helper()
	b, err := json.Marshal(role)
	if err != nil {
		t.Fatal(err)
	}
	var r struct { // the resource as goformation marshals it.
		Properties struct {
			Policies []struct {
				PolicyDocument struct{ Statement []map[string]any }
			}
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, p := range r.Properties.Policies {
		for _, s := range p.PolicyDocument.Statement {
			if s != nil {
				out = append(out, s)
			}
		}
	}
	return out
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// TestLeastPrivilege: each function's role grants exactly the actions its
// code calls (read from the adapters' interfaces) plus those the function's
// own configuration implies (logs, dead letters, its queue, the topic's
// key), nothing with a wildcard, and resources scoped to the stack's own.
func TestLeastPrivilege(t *testing.T) {
	for name, params := range scenarios {
		t.Run(name, func(t *testing.T) {
			tpl := parse(t, deploy.Template, params)
			mappings := tpl.GetAllLambdaEventSourceMappingResources()
			for _, spec := range deploy.Functions {
				fn, err := tpl.GetLambdaFunctionWithName(spec.LogicalID)
				if err != nil {
					continue // switched off in this scenario.
				}
				role, ok := tpl.Resources[spec.RoleID]
				if !ok {
					t.Errorf("%s: role %s missing", spec.LogicalID, spec.RoleID)
					continue
				}
				want := map[string]bool{"logs:CreateLogStream": true, "logs:PutLogEvents": true}
				for _, a := range spec.Adapters {
					for _, act := range codeActions(t, a) {
						if v, ok := iamAction[act]; ok {
							act = v
						}
						if !needsNoPermission[act] {
							want[act] = true
						}
					}
					if a == deploy.AdapterTopic {
						want["kms:Decrypt"], want["kms:GenerateDataKey"] = true, true // the topic is KMS-encrypted.
					}
				}
				if spec.Access != nil { // per table: the union of the tables' actions.
					for act := range want {
						if strings.HasPrefix(act, "dynamodb:") {
							delete(want, act)
						}
					}
					for _, acts := range spec.Access {
						for _, act := range acts {
							want[act] = true
						}
					}
				}
				perTable := map[string][]string{} // table resource → DynamoDB actions granted on it.
				if a := deploy.AdapterObjects; spec.Uses(a) && params["TrailBucketName"] == nil {
					delete(want, "s3:GetObject") // no trail bucket: nothing to read.
				}
				if spec.Uses(deploy.AdapterAssume) && params["PollAccounts"] == nil {
					delete(want, "sts:AssumeRole") // no member accounts: no role to assume.
				}
				if fn.DeadLetterConfig != nil {
					want["sqs:SendMessage"] = true
				}
				for _, m := range mappings {
					if aws := fmt.Sprint(m.FunctionName); aws == "ref:"+spec.LogicalID {
						want["sqs:ReceiveMessage"], want["sqs:DeleteMessage"], want["sqs:GetQueueAttributes"] = true, true, true
					}
				}
				got := map[string]bool{}
				var tables []string
				for _, st := range statements(t, role) {
					if st["Effect"] != "Allow" {
						t.Errorf("%s: statement %v is not Allow", spec.RoleID, st["Sid"])
					}
					acts, res := strs(st["Action"]), strs(st["Resource"])
					for _, act := range acts {
						if strings.Contains(act, "*") {
							t.Errorf("%s: wildcard action %s", spec.RoleID, act)
						}
						got[act] = true
						if slices.Contains(res, "*") && !unscopable[act] {
							t.Errorf("%s: %s on Resource *", spec.RoleID, act)
						}
					}
					if len(res) == 0 {
						t.Errorf("%s: statement %v has no resource", spec.RoleID, st["Sid"])
					}
					if slices.ContainsFunc(acts, func(a string) bool { return strings.HasPrefix(a, "dynamodb:") }) {
						tables = append(tables, res...)
						for _, r := range res {
							perTable[r] = append(perTable[r], acts...)
						}
					}
				}
				for _, a := range slices.Sorted(maps.Keys(want)) {
					if !got[a] {
						t.Errorf("%s: the code calls %s but %s does not grant it", spec.LogicalID, a, spec.RoleID)
					}
				}
				for _, a := range slices.Sorted(maps.Keys(got)) {
					if !want[a] {
						t.Errorf("%s: %s grants %s, which %s never calls", spec.RoleID, spec.RoleID, a, spec.LogicalID)
					}
				}
				var wantTables []string
				for _, tb := range spec.Tables {
					wantTables = append(wantTables, "getatt:"+tb+".Arn")
					if tb == "HitsTable" { // the only table with an index.
						wantTables = append(wantTables, "sub:${"+tb+".Arn}/index/*")
					}
				}
				sort.Strings(tables)
				sort.Strings(wantTables)
				if !slices.Equal(tables, wantTables) {
					t.Errorf("%s: store resources %v, want %v", spec.RoleID, tables, wantTables)
				}
				for tb, acts := range spec.Access {
					got, want := slices.Sorted(slices.Values(perTable["getatt:"+tb+".Arn"])), slices.Sorted(slices.Values(acts))
					if !slices.Equal(got, want) {
						t.Errorf("%s: on %s grants %v, want exactly %v", spec.RoleID, tb, got, want)
					}
				}
			}
		})
	}
}

// TestFunctions: every function of deploy.Functions is in the template,
// running this binary with its name and concurrency.
func TestFunctions(t *testing.T) {
	tpl := parse(t, deploy.Template, scenarios["everything"])
	fns := tpl.GetAllLambdaFunctionResources()
	if len(fns) != len(deploy.Functions) {
		t.Errorf("template has %d functions, deploy.Functions %d", len(fns), len(deploy.Functions))
	}
	for _, spec := range deploy.Functions {
		fn, ok := fns[spec.LogicalID]
		if !ok {
			t.Errorf("function %s missing", spec.LogicalID)
			continue
		}
		if got := fn.Environment.Variables["IAMWATCH_FUNCTION"]; got != string(spec.Name) {
			t.Errorf("%s: IAMWATCH_FUNCTION = %q, want %q", spec.LogicalID, got, spec.Name)
		}
		if fn.Role != "getatt:"+spec.RoleID+".Arn" {
			t.Errorf("%s: role %s, want %s", spec.LogicalID, fn.Role, spec.RoleID)
		}
		if aws := deref(fn.Runtime); aws != "provided.al2023" || !slices.Equal(fn.Architectures, []string{"arm64"}) || deref(fn.Handler) != "bootstrap" {
			t.Errorf("%s: runtime %s %v %s, want provided.al2023 arm64 bootstrap", spec.LogicalID, aws, fn.Architectures, deref(fn.Handler))
		}
		// Lambda keeps 100 of the account's concurrency unreserved, and new
		// accounts start with a quota of 10: any reservation fails the stack
		// (ROLLBACK_COMPLETE). Single-writer guarantees come from the store
		// (delivery claims, conditional writes), not from reservations.
		if fn.ReservedConcurrentExecutions != nil {
			t.Errorf("%s: reserves concurrency %d; stack creation fails in accounts with a quota under %d",
				spec.LogicalID, *fn.ReservedConcurrentExecutions, 100+*fn.ReservedConcurrentExecutions)
		}
		for _, v := range []string{"IAMWATCH_TABLE_EVENTS", "IAMWATCH_TABLE_ALERTS", "IAMWATCH_TABLE_HITS", "IAMWATCH_TABLE_DELIVERIES", "IAMWATCH_TABLE_CONTROL"} {
			if fn.Environment.Variables[v] == "" {
				t.Errorf("%s: %s not set", spec.LogicalID, v)
			}
		}
	}
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// TestTables: the tables are what store/dynamodb creates (keys, indexes,
// on-demand), encrypted, with point-in-time recovery and TTL on expires_at.
func TestTables(t *testing.T) {
	tpl := parse(t, deploy.Template, nil)
	defs := dynamodb.Tables{Events: "EventsTable", Alerts: "AlertsTable", Hits: "HitsTable", Deliveries: "DeliveriesTable", Control: "ControlTable"}.Definitions()
	tables := tpl.GetAllDynamoDBTableResources()
	if len(tables) != len(defs) {
		t.Errorf("template has %d tables, the store %d", len(tables), len(defs))
	}
	norm := func(v any) string {
		b, _ := json.Marshal(v)
		var m any
		_ = json.Unmarshal(b, &m)
		b, _ = json.Marshal(m)
		return string(b)
	}
	for _, d := range defs {
		id := *d.TableName
		tb, ok := tables[id]
		if !ok {
			t.Errorf("table %s missing", id)
			continue
		}
		if deref(tb.BillingMode) != string(d.BillingMode) {
			t.Errorf("%s: billing %s, want %s", id, deref(tb.BillingMode), d.BillingMode)
		}
		if tb.SSESpecification == nil || !tb.SSESpecification.SSEEnabled {
			t.Errorf("%s: not encrypted", id)
		}
		if tb.PointInTimeRecoverySpecification == nil || !deref(tb.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled) {
			t.Errorf("%s: no point-in-time recovery", id)
		}
		if tb.TimeToLiveSpecification == nil || deref(tb.TimeToLiveSpecification.AttributeName) != dynamodb.TTLAttribute || !tb.TimeToLiveSpecification.Enabled {
			t.Errorf("%s: TTL not on %s", id, dynamodb.TTLAttribute)
		}
		type key struct{ Name, Type string }
		keys := func(l []key) string {
			sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
			return fmt.Sprint(l)
		}
		var gotAttrs, wantAttrs []key
		for _, a := range tb.AttributeDefinitions {
			gotAttrs = append(gotAttrs, key{a.AttributeName, a.AttributeType})
		}
		for _, a := range d.AttributeDefinitions {
			wantAttrs = append(wantAttrs, key{*a.AttributeName, string(a.AttributeType)})
		}
		if keys(gotAttrs) != keys(wantAttrs) {
			t.Errorf("%s: attributes %v, want %v", id, keys(gotAttrs), keys(wantAttrs))
		}
		var ks []key
		for _, k := range d.KeySchema {
			ks = append(ks, key{*k.AttributeName, string(k.KeyType)})
		}
		var gks []key
		for _, k := range tb.KeySchema {
			gks = append(gks, key{k.AttributeName, k.KeyType})
		}
		if fmt.Sprint(gks) != fmt.Sprint(ks) {
			t.Errorf("%s: key schema %v, want %v", id, gks, ks)
		}
		type index struct {
			Name, Keys, Projection string
			NonKey                 []string
		}
		var gotIdx, wantIdx []index
		for _, g := range tb.GlobalSecondaryIndexes {
			nk := slices.Sorted(slices.Values(g.Projection.NonKeyAttributes))
			gotIdx = append(gotIdx, index{"G" + g.IndexName, norm(g.KeySchema), deref(g.Projection.ProjectionType), nk})
		}
		for _, g := range tb.LocalSecondaryIndexes {
			nk := slices.Sorted(slices.Values(g.Projection.NonKeyAttributes))
			gotIdx = append(gotIdx, index{"L" + g.IndexName, norm(g.KeySchema), deref(g.Projection.ProjectionType), nk})
		}
		schema := func(l any) string {
			b, _ := json.Marshal(l)
			var raw []struct{ AttributeName, KeyType string }
			_ = json.Unmarshal(b, &raw)
			return norm(raw)
		}
		for _, g := range d.GlobalSecondaryIndexes {
			nk := slices.Sorted(slices.Values(g.Projection.NonKeyAttributes))
			wantIdx = append(wantIdx, index{"G" + *g.IndexName, schema(g.KeySchema), string(g.Projection.ProjectionType), nk})
		}
		for _, g := range d.LocalSecondaryIndexes {
			nk := slices.Sorted(slices.Values(g.Projection.NonKeyAttributes))
			wantIdx = append(wantIdx, index{"L" + *g.IndexName, schema(g.KeySchema), string(g.Projection.ProjectionType), nk})
		}
		if fmt.Sprint(gotIdx) != fmt.Sprint(wantIdx) {
			t.Errorf("%s: indexes\n got %v\nwant %v", id, gotIdx, wantIdx)
		}
	}
}

// TestEventRules: the generated block of template.yaml is what the catalog
// gives (-update rewrites it), every catalog rule's EventBridge pattern is
// covered by a template rule targeting the real-time function, and every
// such rule may invoke it.
func TestEventRules(t *testing.T) {
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	ers := deploy.EventRules(catalog)
	block, err := deploy.RenderEventRules(ers)
	if err != nil {
		t.Fatal(err)
	}
	want, err := deploy.ReplaceGenerated(deploy.Template, block)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("template.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("template.yaml rewritten; run again")
	}
	if !bytes.Equal(want, deploy.Template) {
		t.Fatal("template.yaml's generated event rules differ from the rule catalog; run go test ./deploy -run TestEventRules -update")
	}
	for name, params := range scenarios {
		t.Run(name, func(t *testing.T) {
			tpl := parse(t, deploy.Template, params)
			ebRules := tpl.GetAllEventsRuleResources()
			perms := tpl.GetAllLambdaPermissionResources()
			var patterns []map[string]any
			for id, r := range ebRules {
				if r.EventPattern == nil {
					continue // a schedule.
				}
				if len(r.Targets) != 1 || r.Targets[0].Arn != "getatt:RealtimeFunction.Arn" {
					t.Errorf("rule %s does not target the real-time function", id)
				}
				if !slices.ContainsFunc(slices.Collect(maps.Values(perms)), func(p *lambdaPermission) bool { return deref(p.SourceArn) == "getatt:"+id+".Arn" }) {
					t.Errorf("rule %s has no permission to invoke its target", id)
				}
				patterns = append(patterns, toMap(t, r.EventPattern))
			}
			for _, r := range catalog {
				if !deploy.TrailOnly(r) && !coveredBy(patterns, r.EventBridgePattern()) {
					t.Errorf("no EventBridge rule delivers the events of catalog rule %s", r.ID)
				}
			}
		})
	}
}

func toMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// covers reports whether EventBridge pattern p delivers every event that
// catalog pattern c matches: equal patterns, or p restricted only by
// source, detail-type, detail.eventSource, detail.eventName and
// detail.readOnly lists that include c's.
func covers(p, c map[string]any) bool {
	c = toMapAny(c)
	if reflect.DeepEqual(p, c) {
		return true
	}
	subset := func(key string, pv, cv any) bool {
		pl, ok := pv.([]any)
		if !ok {
			return pv == nil
		}
		cl, ok := cv.([]any)
		if !ok {
			return false
		}
		for _, x := range cl {
			if !slices.ContainsFunc(pl, func(y any) bool { return reflect.DeepEqual(x, y) }) {
				return false
			}
		}
		return true
	}
	for k, pv := range p {
		switch k {
		case "source", "detail-type":
			if !subset(k, pv, c[k]) {
				return false
			}
		case "detail":
			pd, _ := pv.(map[string]any)
			cd, _ := c["detail"].(map[string]any)
			for dk, dv := range pd {
				switch dk {
				case "eventSource", "eventName":
					if !subset(dk, dv, cd[dk]) {
						return false
					}
				case "readOnly":
					// The history rule delivers write events only; the
					// catalog's identity rules all match write calls.
					if cd["eventName"] == nil {
						return false
					}
				default:
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// coveredBy reports whether patterns deliver every event of the catalog
// pattern c: one pattern covers it, or, for a rule naming several sources (the template has one rule
// per source), each source's share of c must be covered by one pattern.
func coveredBy(patterns []map[string]any, c map[string]any) bool {
	c = toMapAny(c)
	// A rule whose events another rule delivers has no rule of its own
	// (deploy.Covers, checked against EventBridge matching by
	// TestCoversMatches).
	if slices.ContainsFunc(patterns, func(p map[string]any) bool { return deploy.Covers(p, c) }) {
		return true
	}
	srcs, _ := c["source"].([]any)
	if len(srcs) < 2 {
		return coveredByNames(patterns, c)
	}
	for _, src := range srcs {
		one := toMapAny(c)
		one["source"] = []any{src}
		d, _ := one["detail"].(map[string]any)
		d["eventSource"] = []any{strings.TrimPrefix(src.(string), "aws.") + ".amazonaws.com"}
		if !coveredByNames(patterns, one) {
			return false
		}
	}
	return true
}

// coveredByNames reports whether one pattern covers c, or, for a source
// whose names are split over several rules (EventBridge bounds a pattern's
// size), each of c's event names is covered by some pattern.
func coveredByNames(patterns []map[string]any, c map[string]any) bool {
	if slices.ContainsFunc(patterns, func(p map[string]any) bool { return covers(p, c) }) {
		return true
	}
	d, _ := c["detail"].(map[string]any)
	names, ok := d["eventName"].([]any)
	if !ok || len(names) < 2 {
		return false
	}
	for _, n := range names {
		one := toMapAny(c)
		one["detail"].(map[string]any)["eventName"] = []any{n}
		if !slices.ContainsFunc(patterns, func(p map[string]any) bool { return covers(p, one) }) {
			return false
		}
	}
	return true
}

// toMapAny normalises a pattern through JSON (so []string become []any).
func toMapAny(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// TestAnalyticsBucket: encrypted, public access blocked, lifecycle IA 30,
// Glacier Instant Retrieval 90 (classes Athena reads).
func TestAnalyticsBucket(t *testing.T) {
	tpl := parse(t, deploy.Template, nil)
	b, err := tpl.GetS3BucketWithName("AnalyticsBucket")
	if err != nil {
		t.Fatal(err)
	}
	if b.BucketEncryption == nil || len(b.BucketEncryption.ServerSideEncryptionConfiguration) == 0 {
		t.Error("bucket not encrypted")
	}
	pab := b.PublicAccessBlockConfiguration
	if pab == nil || !deref(pab.BlockPublicAcls) || !deref(pab.BlockPublicPolicy) || !deref(pab.IgnorePublicAcls) || !deref(pab.RestrictPublicBuckets) {
		t.Errorf("public access not fully blocked: %+v", pab)
	}
	var got []string
	for _, r := range b.LifecycleConfiguration.Rules {
		for _, tr := range r.Transitions {
			got = append(got, fmt.Sprintf("%s@%d", tr.StorageClass, deref(tr.TransitionInDays)))
		}
	}
	// Athena skips objects in GLACIER (Flexible Retrieval) and DEEP_ARCHIVE
	// without an error (Athena UG, "Query restored Amazon S3 Glacier
	// objects"): an audit query over older exports would silently miss
	// them. Every class the exports move to must be one Athena reads.
	athenaReads := map[string]bool{"STANDARD_IA": true, "ONEZONE_IA": true, "INTELLIGENT_TIERING": true, "GLACIER_IR": true}
	for _, tr := range got {
		class, _, _ := strings.Cut(tr, "@")
		if !athenaReads[class] {
			t.Errorf("exports move to %s, which Athena skips", tr)
		}
	}
	if want := []string{"STANDARD_IA@30", "GLACIER_IR@90"}; !slices.Equal(got, want) {
		t.Errorf("transitions %v, want %v", got, want)
	}
}

// TestForwarder: the forwarder sends every catalog source (and the
// sourceless patterns) to the home bus, with a role allowed only that.
func TestForwarder(t *testing.T) {
	tpl := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"})
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var patterns []map[string]any
	for id, r := range tpl.GetAllEventsRuleResources() {
		if len(r.Targets) != 1 || !strings.Contains(r.Targets[0].Arn, "event-bus/default") || deref(r.Targets[0].RoleArn) != "getatt:ForwardRole.Arn" {
			t.Errorf("forwarder rule %s: targets %+v", id, r.Targets)
		}
		patterns = append(patterns, toMap(t, r.EventPattern))
	}
	for _, r := range catalog {
		if !deploy.TrailOnly(r) && !coveredBy(patterns, r.EventBridgePattern()) {
			t.Errorf("the forwarder does not forward the events of catalog rule %s", r.ID)
		}
	}
	role := tpl.Resources["ForwardRole"]
	for _, st := range statements(t, role) {
		if acts := strs(st["Action"]); !slices.Equal(acts, []string{"events:PutEvents"}) {
			t.Errorf("forward role grants %v, want only events:PutEvents", acts)
		}
		if res := strs(st["Resource"]); len(res) != 1 || !strings.Contains(res[0], "event-bus/default") {
			t.Errorf("forward role resources %v, want the home bus", res)
		}
	}
}

type lambdaPermission = cfnlambda.Permission

// TestExportLookback: each export run rewrites the days of its lookback,
// so the lookback must span the schedule's period with margin (a run a
// little late, a day still receiving events); otherwise the days between
// one run's lookback and the previous run are never exported, and gone
// once DynamoDB's TTL removes them.
func TestExportLookback(t *testing.T) {
	r := raw(t, deploy.Template)
	allowed := r["Parameters"].(map[string]any)["ExportSchedule"].(map[string]any)["AllowedValues"].([]any)
	rate := regexp.MustCompile(`^rate\((\d+) (hour|hours|day|days)\)$`)
	for _, v := range allowed {
		sched := v.(string)
		if sched == "none" {
			continue
		}
		tpl := parse(t, deploy.Template, map[string]any{"ExportSchedule": sched})
		fn, err := tpl.GetLambdaFunctionWithName("ExporterFunction")
		if err != nil {
			t.Fatal(err)
		}
		rule, err := tpl.GetEventsRuleWithName("ExporterSchedule")
		if err != nil {
			t.Fatal(err)
		}
		m := rate.FindStringSubmatch(deref(rule.ScheduleExpression))
		if m == nil {
			t.Fatalf("%s: schedule %q is not a rate in hours or days", sched, deref(rule.ScheduleExpression))
		}
		var n int
		if _, err := fmt.Sscan(m[1], &n); err != nil {
			t.Fatalf("%s: %v", sched, err)
		}
		periodHours := n
		if strings.HasPrefix(m[2], "day") {
			periodHours = n * 24
		}
		var days int
		if _, err := fmt.Sscan(fn.Environment.Variables["IAMWATCH_EXPORT_LOOKBACK_DAYS"], &days); err != nil {
			t.Fatalf("%s: IAMWATCH_EXPORT_LOOKBACK_DAYS = %q", sched, fn.Environment.Variables["IAMWATCH_EXPORT_LOOKBACK_DAYS"])
		}
		if days*24 < periodHours+48 {
			t.Errorf("ExportSchedule %s: runs every %d h but looks back %d days: the days before are never exported (want at least the period plus 2 days)", sched, periodHours, days)
		}
	}
}

// TestTrailKey: trail files encrypted with SSE-KMS (CIS 3.5, the norm for
// organisation trails) can be read: with TrailKmsKeyArn set, the real-time
// role may kms:Decrypt with that key and no other; without it, no such grant.
func TestTrailKey(t *testing.T) {
	grants := func(params map[string]any) [][]string {
		tpl := parse(t, deploy.Template, params)
		var out [][]string
		for _, st := range statements(t, tpl.Resources["RealtimeRole"]) {
			if slices.Contains(strs(st["Action"]), "kms:Decrypt") {
				out = append(out, strs(st["Resource"]))
			}
		}
		return out
	}
	got := grants(scenarios["everything"])
	if !slices.ContainsFunc(got, func(res []string) bool { return slices.Equal(res, []string{trailKey}) }) {
		t.Errorf("with TrailKmsKeyArn the real-time role grants kms:Decrypt on %v, want a grant on %s", got, trailKey)
	}
	for _, res := range grants(scenarios["defaults"]) {
		if slices.Contains(res, trailKey) {
			t.Errorf("without TrailKmsKeyArn the real-time role still grants kms:Decrypt on %v", res)
		}
	}
}

// TestIndexesRead: every secondary index of the tables is read by the store
// (an IndexName in a query of store/dynamodb). An index nobody reads costs
// a write unit per item on every put, storage, and a partition key that
// can throttle the base table (GSI back-pressure).
func TestIndexesRead(t *testing.T) {
	consts := map[string]string{} // Go constant → index name
	read := map[string]bool{}
	constRE := regexp.MustCompile(`(\w+)\s*=\s*"([\w-]+)"`)
	useRE := regexp.MustCompile(`IndexName:\s*aws\.String\((\w+)\)`)
	files, err := filepath.Glob("../store/dynamodb/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range constRE.FindAllStringSubmatch(string(b), -1) {
			consts[m[1]] = m[2]
		}
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "tables.go") {
			continue // the definitions themselves, and tests.
		}
		for _, m := range useRE.FindAllStringSubmatch(string(b), -1) {
			read[m[1]] = true
		}
	}
	readNames := map[string]bool{}
	for c := range read {
		readNames[consts[c]] = true
	}
	tpl := parse(t, deploy.Template, nil)
	for id, tb := range tpl.GetAllDynamoDBTableResources() {
		for _, g := range tb.GlobalSecondaryIndexes {
			if !readNames[g.IndexName] {
				t.Errorf("%s: global index %s is never read by store/dynamodb", id, g.IndexName)
			}
		}
		for _, l := range tb.LocalSecondaryIndexes {
			if !readNames[l.IndexName] {
				t.Errorf("%s: local index %s is never read by store/dynamodb", id, l.IndexName)
			}
		}
	}
}

// TestDataProtection: the audit history survives a mistaken delete, and the
// stack's resource policies refuse what nobody should do: the events and
// alerts tables have deletion protection; the analytics bucket keeps
// overwritten and deleted exports as old versions for 30 days; every queue
// and bucket policy denies requests without TLS; the services allowed to
// use the alert key or send dead letters are scoped to this account's
// alarms and this account's rules (confused deputy).
func TestDataProtection(t *testing.T) {
	for name, params := range scenarios {
		t.Run(name, func(t *testing.T) {
			tpl := parse(t, deploy.Template, params)
			for _, id := range []string{"EventsTable", "AlertsTable"} {
				tb, err := tpl.GetDynamoDBTableWithName(id)
				if err != nil {
					t.Fatal(err)
				}
				if !deref(tb.DeletionProtectionEnabled) {
					t.Errorf("%s has no deletion protection", id)
				}
			}
			b, err := tpl.GetS3BucketWithName("AnalyticsBucket")
			if err != nil {
				t.Fatal(err)
			}
			if b.VersioningConfiguration == nil || b.VersioningConfiguration.Status != "Enabled" {
				t.Errorf("analytics bucket versioning %+v, want Enabled", b.VersioningConfiguration)
			}
			kept := false
			for _, r := range b.LifecycleConfiguration.Rules {
				if r.NoncurrentVersionExpiration != nil && r.NoncurrentVersionExpiration.NoncurrentDays == 30 {
					kept = true
				}
			}
			if !kept {
				t.Error("analytics bucket: old versions of exports do not expire after 30 days")
			}
			policies := map[string]any{}
			for id, q := range tpl.GetAllSQSQueuePolicyResources() {
				policies[id] = q.PolicyDocument
			}
			for id, p := range tpl.GetAllS3BucketPolicyResources() {
				policies[id] = p.PolicyDocument
			}
			if len(policies) < 3 {
				t.Errorf("resource policies %v: want the ingest queue's, the dead-letter queue's and the bucket's", slices.Sorted(maps.Keys(policies)))
			}
			for id, doc := range policies {
				if !strings.Contains(fmt.Sprint(toMapAny(map[string]any{"p": doc})), "aws:SecureTransport:false") {
					t.Errorf("%s does not deny requests without TLS", id)
				}
			}
			for id, want := range map[string]string{"DeadLetterQueuePolicy": "aws:SourceAccount", "AlertsKey": "aws:SourceArn"} {
				var doc any
				if id == "AlertsKey" {
					k, err := tpl.GetKMSKeyWithName(id)
					if err != nil {
						t.Fatal(err)
					}
					doc = k.KeyPolicy
				} else {
					doc = policies[id]
				}
				if !strings.Contains(fmt.Sprint(doc), want) {
					t.Errorf("%s: service principals are not restricted by %s", id, want)
				}
			}
		})
	}
}

// TestIngestBounded: a backlog of trail files cannot take every instance of
// the real-time function (which also serves EventBridge): the ingest queue
// mapping caps its concurrency.
func TestIngestBounded(t *testing.T) {
	tpl := parse(t, deploy.Template, scenarios["everything"])
	m, err := tpl.GetLambdaEventSourceMappingWithName("RealtimeIngestMapping")
	if err != nil {
		t.Fatal(err)
	}
	if m.ScalingConfig == nil || m.ScalingConfig.MaximumConcurrency == nil || *m.ScalingConfig.MaximumConcurrency > 10 {
		t.Errorf("ingest mapping scaling %+v: want a maximum concurrency of at most 10", m.ScalingConfig)
	}
}

// TestForwarderResilient: forwarded events that EventBridge cannot deliver
// to the home bus after its retries land in a dead-letter queue (with an
// alarm-free depth to inspect) instead of vanishing, and an instance in
// the home region is not an empty stack.
func TestForwarderResilient(t *testing.T) {
	tpl := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"})
	for id, r := range tpl.GetAllEventsRuleResources() {
		for _, tg := range r.Targets {
			if tg.DeadLetterConfig == nil || deref(tg.DeadLetterConfig.Arn) != "getatt:ForwardDeadLetterQueue.Arn" || tg.RetryPolicy == nil {
				t.Errorf("forwarder rule %s target %s: dead letters %+v, retry %+v", id, tg.Id, tg.DeadLetterConfig, tg.RetryPolicy)
			}
		}
	}
	home := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "us-east-1"}) // the tests' region is us-east-1.
	if len(home.Resources) == 0 {
		t.Error("the forwarder in the home region has no resources: CloudFormation refuses an empty stack")
	}
}

// TestOrganization: the documented organisation path. With OrganizationId
// the home default bus accepts PutEvents from the organisation's accounts
// only (aws:PrincipalOrgID); with TrailBucketAccount the ingest queue
// accepts the notifications of an organisation trail's bucket in the
// log-archive account; a member account's forwarder, given HomeAccountId,
// sends to that account's bus, from every region including the home one.
func TestOrganization(t *testing.T) {
	org := map[string]any{"OrganizationId": "o-a1b2c3d4e5", "TrailBucketName": "org-trail", "TrailBucketAccount": "444455556666"}
	tpl := parse(t, deploy.Template, org)
	var bus *cfnevents.EventBusPolicy
	for _, p := range tpl.GetAllEventsEventBusPolicyResources() {
		bus = p
	}
	if bus == nil {
		t.Fatal("no event bus policy for the organisation")
	}
	if got := fmt.Sprint(bus.Statement); !strings.Contains(got, "aws:PrincipalOrgID:o-a1b2c3d4e5") || !strings.Contains(got, "events:PutEvents") {
		t.Errorf("bus policy %s: want events:PutEvents for aws:PrincipalOrgID o-a1b2c3d4e5", got)
	}
	q, err := tpl.GetSQSQueuePolicyWithName("IngestQueuePolicy")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(q.PolicyDocument); !strings.Contains(got, "aws:SourceAccount:444455556666") {
		t.Errorf("ingest queue policy %s: want the trail bucket's account 444455556666", got)
	}
	if len(parse(t, deploy.Template, nil).GetAllEventsEventBusPolicyResources()) != 0 {
		t.Error("a single-account stack has an event bus policy")
	}

	member := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "us-east-1", "HomeAccountId": "111122223333"}) // the tests' region is us-east-1.
	rules := member.GetAllEventsRuleResources()
	if len(rules) == 0 {
		t.Fatal("a member account's forwarder in the home region forwards nothing")
	}
	for id, r := range rules {
		if arn := r.Targets[0].Arn; !strings.Contains(arn, "${HomeAccount}") {
			t.Errorf("forwarder rule %s targets %s, want the home account's bus", id, arn)
		}
	}
	// The member's read role: in its home-region instance only (IAM is
	// global), only with a poller to trust, and named as the stack's
	// PollRoleName default (TestReadRoleSimulated evaluates its policies).
	withPoller := map[string]any{"HomeRegion": "us-east-1", "HomeAccountId": "111122223333", "PollerRoleArn": pollerRole}
	if _, err := parse(t, deploy.Forwarder, withPoller).GetIAMRoleWithName("LookupReadRole"); err != nil {
		t.Errorf("a member's home-region forwarder with PollerRoleArn has no read role: %v", err)
	}
	if _, err := member.GetIAMRoleWithName("LookupReadRole"); err == nil {
		t.Error("a member's forwarder without PollerRoleArn has a read role")
	}
	other := map[string]any{"HomeRegion": "eu-west-1", "HomeAccountId": "111122223333", "PollerRoleArn": pollerRole}
	if _, err := parse(t, deploy.Forwarder, other).GetIAMRoleWithName("LookupReadRole"); err == nil {
		t.Error("a member's forwarder outside the home region has a read role: a StackSet over every region would create it again in each")
	}
	if _, err := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "us-east-1", "HomeAccountId": "123456789012", "PollerRoleArn": pollerRole}).GetIAMRoleWithName("LookupReadRole"); err == nil {
		t.Error("the iamwatch account's own forwarder has a read role; its poller reads it with its own")
	}
	tr := raw(t, deploy.Template)
	if got := tr["Parameters"].(map[string]any)["PollRoleName"].(map[string]any)["Default"]; got != raw(t, deploy.Forwarder)["Parameters"].(map[string]any)["ReadRoleName"].(map[string]any)["Default"] {
		t.Errorf("the stack's PollRoleName default %v differs from the forwarder's ReadRoleName", got)
	}
	// Every forwarding instance given a topic raises an alarm on its dead letters.
	if _, err := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"}).GetCloudWatchAlarmWithName("ForwardDeadLetterAlarm"); err == nil {
		t.Error("a forwarder without AlarmTopicArn has a dead-letter alarm that tells nobody")
	}
	for _, p := range []map[string]any{
		{"HomeRegion": "eu-west-1", "AlarmTopicArn": "arn:aws:sns:us-east-1:111122223333:ops"},
		{"HomeRegion": "us-east-1", "HomeAccountId": "111122223333", "AlarmTopicArn": "arn:aws:sns:us-east-1:111122223333:ops"},
	} {
		alarm, err := parse(t, deploy.Forwarder, p).GetCloudWatchAlarmWithName("ForwardDeadLetterAlarm")
		if err != nil {
			t.Errorf("forwarder %v: no dead-letter alarm: %v", p, err)
			continue
		}
		if alarm.MetricName == nil || *alarm.MetricName != "ApproximateNumberOfMessagesVisible" || alarm.Threshold == nil || *alarm.Threshold != 0 {
			t.Errorf("forwarder %v: dead-letter alarm on %v > %v", p, alarm.MetricName, alarm.Threshold)
		}
		if !slices.Contains(alarm.AlarmActions, "arn:aws:sns:us-east-1:111122223333:ops") {
			t.Errorf("forwarder %v: alarm actions %v, want the topic", p, alarm.AlarmActions)
		}
	}

	// The stack's own account, in its home region, must not forward to itself.
	self := parse(t, deploy.Forwarder, map[string]any{"HomeRegion": "us-east-1", "HomeAccountId": "123456789012"}) // goformation's AWS::AccountId.
	if n := len(self.GetAllEventsRuleResources()); n != 0 {
		t.Errorf("the forwarder in the stack's own account and region has %d rules; it would forward to its own bus", n)
	}
}
