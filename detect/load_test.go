package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/iamwatch/iamwatch"
)

const validRule = `id: ok
title: OK
severity: low
match: {eventName: [CreateUser]}
summary: '{{.user_name}}'
action: Nothing.
`

func TestBrokenRuleFiles(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		reason    string
	}{
		{"yaml syntax", "id: x\ntitle: X\n  severity: low\n", 3, "mapping values are not allowed"},
		{"unknown key", validRule + "sumary: x\n", 7, `unknown key "sumary"`},
		{"missing match", "id: x\ntitle: X\nseverity: low\nsummary: s\n", 1, `missing "match"`},
		{"bad severity", strings.Replace(validRule, "severity: low", "severity: urgent", 1), 3, `unknown severity "urgent"`},
		{"bad id", strings.Replace(validRule, "id: ok", "id: Not_OK", 1), 1, "lower-case"},
		{"bad operator", strings.Replace(validRule, "match: {eventName: [CreateUser]}", "match:\n  eventName:\n    - {prefx: Create}", 1), 6, `match.eventName: unknown operator "prefx"`},
		{"scalar in match", strings.Replace(validRule, "[CreateUser]", "CreateUser", 1), 4, "values must be in a list"},
		{"bad condition", validRule + "condition: 'request.x =='\n", 7, "condition"},
		{"condition not bool", validRule + "condition: 'user_name'\n", 7, "want bool"},
		{"unknown variable", validRule + "condition: 'usr_name == \"x\"'\n", 7, "undeclared reference to 'usr_name'"},
		{"bad summary", strings.Replace(validRule, "'{{.user_name}}'", "'{{.user_nam}}'", 1), 5, "user_nam"},
		{"bad template syntax", strings.Replace(validRule, "'{{.user_name}}'", "'{{if}}'", 1), 5, "summary"},
		{"threshold count", validRule + "threshold: {count: 1, within: 1h, by: [user_name]}\n", 7, "at least 2"},
		{"threshold within", validRule + "threshold: {count: 3, within: soon, by: [user_name]}\n", 7, "not a positive duration"},
		{"threshold by", validRule + "threshold: {count: 3, within: 1h, by: [username]}\n", 7, `unknown field "username"`},
		{"threshold and dedup", validRule + "threshold: {count: 3, within: 1h, by: [user_name]}\ndedup: {fields: [user_name], period: 1h}\n", 8, "give dedup only a period"},
		{"test expect", validRule + "tests:\n  - name: t\n    expect: maybe\n    event: {eventID: a}\n", 9, "want alert or none"},
		{"test event not JSON", validRule + "tests:\n  - name: t\n    expect: none\n    event: 'not json'\n", 10, "JSON object"},
		{"duplicate key", validRule + "title: again\n", 7, `duplicate key "title"`},
		{"bad delivery", validRule + "delivery: sometimes\n", 7, `delivery: "sometimes": want realtime or trail`},
		{"multi-line action", strings.Replace(validRule, "action: Nothing.", "action: |\n  one\n  two", 1), 6, "one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRule("rules/x.yaml", []byte(tt.src))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			if fe.File != "rules/x.yaml" || fe.Line != tt.line || !strings.Contains(fe.Error(), tt.reason) {
				t.Errorf("got %q (line %d), want line %d and %q", fe.Error(), fe.Line, tt.line, tt.reason)
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"r/a.yaml":     {Data: []byte(validRule)},
		"r/b.yml":      {Data: []byte(strings.Replace(validRule, "id: ok", "id: ok2", 1))},
		"r/README.md":  {Data: []byte("not a rule")},
		"r/sub/c.yaml": {Data: []byte("garbage: [")},
	}
	rs, err := LoadFS(fsys, "r")
	if err != nil || len(rs) != 2 || rs[0].ID != "ok" || rs[1].File != "r/b.yml" {
		t.Fatalf("%v %v", rs, err)
	}
	// Every broken file is reported; a duplicate ID names both files.
	fsys["r/c.yaml"] = &fstest.MapFile{Data: []byte(validRule)}
	fsys["r/d.yaml"] = &fstest.MapFile{Data: []byte("id: d\ntitle: [\n")}
	_, err = LoadFS(fsys, "r")
	if err == nil || !strings.Contains(err.Error(), "r/c.yaml:1: rule \"ok\" is already defined in r/a.yaml") || !strings.Contains(err.Error(), "r/d.yaml:2:") {
		t.Errorf("error %v", err)
	}
}

// TestLoadOrder: files are parsed and rules compiled on several
// goroutines, yet the rules come out in file order and the errors, of the
// load and of New, are those of a load one file after another: every
// broken file in file order, and New's first broken rule.
func TestLoadOrder(t *testing.T) {
	const n = 40
	fsys := fstest.MapFS{}
	var wantErrs []string
	for i := range n {
		name := fmt.Sprintf("r/%02d.yaml", i)
		id := fmt.Sprintf("r%02d", i)
		src := strings.Replace(validRule, "id: ok", "id: "+id, 1)
		switch {
		case i%10 == 3:
			src = strings.Replace(src, "severity: low", "severity: urgent", 1)
			wantErrs = append(wantErrs, name+`:3: severity: unknown severity "urgent" (want one of info, low, medium, high, critical)`)
		case i%10 == 7:
			src = strings.Replace(src, "id: "+id, "id: r00", 1)
			wantErrs = append(wantErrs, name+`:1: rule "r00" is already defined in r/00.yaml`)
		}
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	for range 10 {
		_, err := LoadFS(fsys, "r")
		if err == nil || err.Error() != strings.Join(wantErrs, "\n") {
			t.Fatalf("error:\n%v\nwant:\n%s", err, strings.Join(wantErrs, "\n"))
		}
	}

	var all []string
	for i := range n {
		name := fmt.Sprintf("r/%02d.yaml", i)
		all = append(all, fmt.Sprintf("r%02d", i))
		src := strings.Replace(validRule, "id: ok", "id: "+all[i], 1)
		if i == 13 || i == 31 { // left for New by a lean load
			src += "condition: 'user_name == '\n"
		}
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	for range 10 {
		rs, err := LoadFSForEngine(fsys, "r")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, all) {
			t.Fatalf("rules %v, want %v", ids, all)
		}
		_, err = New(rs, Config{})
		if err == nil || !strings.HasPrefix(err.Error(), "detect: new engine: rule r13 (r/13.yaml): condition:") {
			t.Fatalf("New: %v, want rule r13's error", err)
		}
	}
}

func TestLoadDirAndUserRuleTests(t *testing.T) {
	rs, err := LoadDir("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].File != filepath.Join("testdata/good", "custom-root-key.yaml") {
		t.Errorf("file %q", rs[0].File)
	}
	for _, res := range RunTests(rs, Config{}) {
		if !res.Passed {
			t.Error(res)
		}
	}
	// A failing test names the rule, the test and the event.
	dir := t.TempDir()
	bad := strings.Replace(validRule, "action: Nothing.", `action: Nothing.
tests:
  - name: should fire
    expect: alert
    event: {eventID: e-77, eventTime: "2025-03-04T09:00:00Z", eventSource: iam.amazonaws.com, eventName: DeleteUser}
`, 1)
	if err := os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err = LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := RunTests(rs, Config{})
	if len(res) != 1 || res[0].Passed {
		t.Fatalf("%+v", res)
	}
	s := res[0].String()
	for _, want := range []string{"FAIL ok/should fire", "ok.yaml:8", "expected an alert", `"eventID":"e-77"`} {
		if !strings.Contains(s, want) {
			t.Errorf("failure %q lacks %q", s, want)
		}
	}
}

// FuzzParseRule checks the loader never panics, that every error it
// returns is a *FileError naming the file, and that a rule it accepts also
// loads into an Engine and evaluates events without error: what `rules
// validate` accepts, scan runs (within the cost budget). The seeds are the
// built-in catalog and rules that must be refused.
func FuzzParseRule(f *testing.F) {
	f.Add([]byte(validRule))
	f.Add([]byte(validRule + "threshold: {count: 3, within: 1h, group: 'user_name'}\n"))
	f.Add([]byte(validRule + "tests:\n  - name: t\n    expect: none\n    repeat: {count: 2, every: 1m}\n    event: {eventID: a, eventTime: '2025-01-01T00:00:00Z'}\n"))
	f.Add([]byte("match: {$or: [{a: [{numeric: ['>', 1]}]}, {b: [{cidr: '10.0.0.0/8'}]}]}\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte(validRule + "condition: 'request.items.exists(a, request.items.exists(b, request.items.exists(c, a == b)))'\n"))
	f.Add([]byte(validRule + "condition: 'request.items.map(a, request.items.map(b, a + b)).size() > 0'\n"))
	builtins, _ := filepath.Glob(filepath.Join("..", "rules", "*.yaml"))
	for _, p := range builtins {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	events := []iamwatch.Event{
		decode(f, itemsEvent("fz-1", 3)),
		decode(f, strings.Replace(itemsEvent("fz-2", 500), "CreateRole", "CreateUser", 1)),
		decode(f, roleEvent(f, "fz-3", "CreateRole", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRule("f.yaml", data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "f.yaml" {
				t.Fatalf("error %v is not a *FileError for f.yaml", err)
			}
			return
		}
		if r.ID == "" || r.Pattern() == nil {
			t.Fatalf("accepted rule without id or pattern")
		}
		_ = r.EventBridgePattern()
		e, err := New([]*Rule{r}, Config{})
		if err != nil {
			t.Fatalf("ParseRule accepted a rule New refuses: %v", err)
		}
		if _, err := e.Match(context.Background(), events); err != nil {
			t.Fatalf("Match: %v", err)
		}
	})
}
