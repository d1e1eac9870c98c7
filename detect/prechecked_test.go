package detect

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/iamwatch/iamwatch"
)

// TestPrecheckedFile: a folder's expressions checked in advance are what
// New compiles them from (even one that says otherwise: hence
// rules.TestPrecheckedCurrent), and the engine matches as without them; a
// file that does not read, or lacks an expression, leaves New to parse and
// check it.
func TestPrecheckedFile(t *testing.T) {
	const rule = validRule + "condition: 'user_name.startsWith(\"ad\") && request.userName != \"\"'\n"
	base, err := LoadFS(fstest.MapFS{"r/ok.yaml": &fstest.MapFile{Data: []byte(rule)}}, "r")
	if err != nil {
		t.Fatal(err)
	}
	pre, err := Precheck(base)
	if err != nil {
		t.Fatal(err)
	}
	admin := decode(t, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/admin","accountId":"111122223333","userName":"admin"},
		"eventTime":"2026-03-02T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7",
		"requestParameters":{"userName":"x"},"eventID":"p-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`)
	other := admin
	other.ID, other.UserName = "p-2", "bob"
	// The checked form of `false` filed under the rule's condition: New
	// compiles what the file says.
	never, err := decodePrechecked(mustPrecheck(t, "false"))
	if err != nil {
		t.Fatal(err)
	}
	lie := encodePrechecked(map[string][]byte{base[0].Condition: never["false"]})
	for _, tc := range []struct {
		name   string
		file   []byte // nil: none
		used   bool
		alerts int
	}{
		{"none", nil, false, 1},
		{"current", pre, true, 1},
		{"truncated", pre[:len(pre)/2], false, 1},
		{"another expression's", mustPrecheck(t, "user_name == \"x\""), false, 1},
		{"another expression's under this one", lie, true, 0},
	} {
		fsys := fstest.MapFS{"r/ok.yaml": &fstest.MapFile{Data: []byte(rule)}}
		if tc.file != nil {
			fsys["r/"+PrecheckedFile] = &fstest.MapFile{Data: tc.file}
		}
		rs, err := LoadFSForEngine(fsys, "r")
		if err != nil {
			t.Fatal(err)
		}
		e := mustEngine(t, rs, Config{})
		if ok := rs[0].prechecked != nil && rs[0].prechecked.exprs[rs[0].Condition] != nil; ok != tc.used {
			t.Errorf("%s: the condition in the file read: %v, want %v", tc.name, ok, tc.used)
		}
		b, err := e.Match(context.Background(), []iamwatch.Event{admin, other})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.singles) != tc.alerts || tc.alerts == 1 && b.singles[0].EventID != "p-1" {
			t.Errorf("%s: alerts %+v, want %d (on p-1)", tc.name, b.singles, tc.alerts)
		}
	}
}

func mustPrecheck(t *testing.T, condition string) []byte {
	t.Helper()
	r := mustRule(t, validRule+"condition: '"+condition+"'\n")
	b, err := Precheck([]*Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrecheckedCoversTheCatalog: compiling every built-in rule (those a
// GeoIP database turns on too) parses no expression that the catalog's
// PrecheckedFile lacks. ruleExpressions lists the expression kinds Precheck
// checks apart from compileRule; a kind added to one and not the other
// fails here rather than quietly costing every start the parse.
func TestPrecheckedCoversTheCatalog(t *testing.T) {
	rules, err := LoadDir("../rules")
	if err != nil {
		t.Fatal(err)
	}
	env, err := newCELEnv(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rules[0].prechecked == nil {
		t.Fatalf("../rules has no %s", PrecheckedFile)
	}
	env.pre = rules[0].prechecked.exprs
	for _, r := range rules {
		if _, err := compileRule(r, Config{}, env); err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
	}
	if len(env.checked) == 0 || env.parsed != 0 {
		t.Errorf("compiling the catalog parsed %d of its %d expressions; want none (go test ./rules -run TestPrecheckedCurrent -update)", env.parsed, len(env.checked))
	}
}
