package teams_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/teams"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestPayloadGolden(t *testing.T) {
	tests := []struct {
		name   string
		alerts []iamwatch.Alert
	}{
		{"root_login.json", []iamwatch.Alert{notifytest.Alert()}},
		{"digest.json", notifytest.Alerts(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.NewServer(t, notifytest.Reply{Status: 202})
			s, err := teams.New("teams", srv.URL+"/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t", srv.Client(), notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), tt.alerts); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || !strings.HasSuffix(reqs[0].Path, "sig=s3cr3t") {
				t.Fatalf("requests %+v", reqs)
			}
			notifytest.Golden(t, tt.name, reqs[0].Body, *update)
		})
	}
}

func TestErrorsRedacted(t *testing.T) {
	for _, tt := range []struct {
		status    int
		permanent bool
	}{{400, true}, {401, true}, {404, true}, {500, false}, {429, false}} {
		srv := notifytest.NewServer(t, notifytest.Reply{Status: tt.status})
		s, _ := teams.New("teams", srv.URL+"/workflows/x?sig=s3cr3t", srv.Client(), notifytest.Fixed(notifytest.Time))
		err := s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
		if err == nil || notify.IsPermanent(err) != tt.permanent || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("status %d: err = %v, want permanent=%v without the signature", tt.status, err, tt.permanent)
		}
	}
}

// unescape removes markdown backslash escapes; what remains must hold no
// markdown syntax characters.
func unescaped(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestHostile(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			m := notify.Format([]iamwatch.Alert{notifytest.HostileAlert(h.Value)})
			b, err := json.Marshal(teams.Payload(&m))
			if err != nil || !json.Valid(b) {
				t.Fatalf("invalid JSON: %v", err)
			}
			var env teams.Envelope
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatal(err)
			}
			card := env.Attachments[0].Content
			if len(card.Actions) != 0 {
				t.Errorf("hostile alert got a link action: %+v", card.Actions)
			}
			var texts []string
			for _, e := range card.Body {
				texts = append(texts, e.Text)
				for _, f := range e.Facts {
					texts = append(texts, f.Value)
				}
			}
			for _, s := range texts {
				if u := unescaped(s); strings.ContainsAny(u, "[]()*_<>`~") || strings.HasPrefix(u, "-") || strings.HasPrefix(u, "#") {
					t.Errorf("unescaped markdown in %q", s)
				}
			}
		})
	}
}

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Target{
		New: func(t *testing.T, base string, client *http.Client) notify.Sink {
			s, err := teams.New("teams", base+"/workflows/abc/triggers/manual/paths/invoke?sig=teamssecret123", client, notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Secret: "teamssecret123", MaxBody: 28 << 10, JSON: true,
	})
}
