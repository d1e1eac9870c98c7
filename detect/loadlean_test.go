package detect_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// TestLoadFSForEngine: the built-in catalog loaded for matching is the
// catalog loaded whole but for the inline tests, and a rule whose tests
// section sits between other keys keeps those keys and its error lines.
func TestLoadFSForEngine(t *testing.T) {
	whole, err := detect.LoadFS(rules.Builtin(), ".")
	if err != nil {
		t.Fatal(err)
	}
	lean, err := detect.LoadFSForEngine(rules.Builtin(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(lean) != len(whole) {
		t.Fatalf("%d rules without tests, %d with", len(lean), len(whole))
	}
	tests := 0
	for i := range whole {
		tests += len(whole[i].Tests)
		if len(lean[i].Tests) != 0 {
			t.Errorf("%s: %d tests kept", lean[i].ID, len(lean[i].Tests))
		}
		w := *whole[i]
		w.Tests = nil
		if !reflect.DeepEqual(&w, lean[i]) {
			t.Errorf("%s differs without its tests", w.ID)
		}
	}
	if tests == 0 {
		t.Fatal("the catalog has no tests: nothing was left out")
	}

	fsys := fstest.MapFS{
		"mid.yaml": {Data: []byte("id: mid\ntitle: t\nseverity: low\ntests:\n- name: x\n  event: {eventName: X}\n  want: true\n  # comment\n\n" +
			"match: {eventName: [X]}\ndescription: d\nsummary: [x]\n")},
	}
	_, err = detect.LoadFSForEngine(fsys, ".")
	var fe *detect.FileError
	if !errors.As(err, &fe) || fe.Line != 12 {
		t.Fatalf("error %v (line %d), want the summary's line 12", err, fe.Line)
	}
	fsys["mid.yaml"].Data = []byte(strings.Replace(string(fsys["mid.yaml"].Data), "[x]", "'{{.count}}'", 1))
	rs, err := detect.LoadFSForEngine(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.Description != "d" || len(r.Tests) != 0 || r.Summary != "{{.count}}" {
		t.Errorf("rule %+v", r)
	}
	// The template is New's to check.
	fsys["mid.yaml"].Data = []byte(strings.Replace(string(fsys["mid.yaml"].Data), "{{.count}}", "{{.nope", 1))
	if rs, err = detect.LoadFSForEngine(fsys, "."); err != nil {
		t.Fatal(err)
	}
	if _, err := detect.New(rs, detect.Config{}); err == nil || !strings.Contains(err.Error(), "rule mid (mid.yaml): summary:") {
		t.Errorf("New: %v, want the summary's error", err)
	}
}
