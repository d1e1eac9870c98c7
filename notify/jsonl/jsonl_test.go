package jsonl_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify/jsonl"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestStdoutGolden(t *testing.T) {
	var buf bytes.Buffer
	s, err := jsonl.New("out", jsonl.Config{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), notifytest.Alerts(2)); err != nil {
		t.Fatal(err)
	}
	notifytest.Golden(t, "alerts.jsonl", buf.Bytes(), *update)
}

func TestFileAppendsConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	s, err := jsonl.New("file", jsonl.Config{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alerts := notifytest.Alerts(20)
	var wg sync.WaitGroup
	for i := range alerts {
		wg.Go(func() {
			if err := s.Send(context.Background(), alerts[i:i+1]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a iamwatch.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		seen[a.DedupKey] = true
	}
	if len(seen) != len(alerts) {
		t.Errorf("%d distinct alerts in the file, want %d", len(seen), len(alerts))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestHostile(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			a := notifytest.HostileAlert(h.Value)
			var js, text bytes.Buffer
			sj, _ := jsonl.New("j", jsonl.Config{}, &js)
			st, _ := jsonl.New("t", jsonl.Config{Format: "text"}, &text)
			for _, s := range []interface {
				Send(context.Context, []iamwatch.Alert) error
			}{sj, st} {
				if err := s.Send(context.Background(), []iamwatch.Alert{a}); err != nil {
					t.Fatal(err)
				}
			}
			line := bytes.TrimSuffix(js.Bytes(), []byte("\n"))
			if bytes.Contains(line, []byte("\n")) {
				t.Fatal("alert spans lines")
			}
			var back iamwatch.Alert
			if err := json.Unmarshal(line, &back); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h.Value, "\xff") && !reflect.DeepEqual(back, a) {
				t.Errorf("JSON line does not round-trip")
			}
			for _, out := range []string{js.String(), text.String()} {
				for _, r := range out {
					if r != '\n' && (unicode.IsControl(r) || r == '\u202e' || r == '\u2066') {
						t.Fatalf("terminal-active character %U in output", r)
					}
				}
			}
		})
	}
}
