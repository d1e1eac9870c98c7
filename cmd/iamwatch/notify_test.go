package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/webhook"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

func writeNotifyConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "iamwatch.yaml")
	cfg := "sources:\n  lookup:\n    regions: [us-east-1]\nnotify:\n  sinks:\n    hook:\n      type: webhook\n      url: env:HOOK_URL\n      secret: k\n    other:\n      type: slack\n      webhook_url: env:UNSET\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNotifyTest(t *testing.T) {
	srv := notifytest.NewServer(t, notifytest.Reply{Status: 200}, notifytest.Reply{Status: 404, Body: "no such hook"})
	cfg := writeNotifyConfig(t)
	env := map[string]string{"HOOK_URL": srv.URL + "/hooks/s3cr3t"}

	r := runCLI(t, "", env, "notify", "test", "--config", cfg, "--sink", "hook")
	if r.code != exitOK || r.stdout != "sent a test alert to hook (webhook)\n" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	var body webhook.Body
	if err := json.Unmarshal(srv.Requests()[0].Body, &body); err != nil || len(body.Alerts) != 1 || body.Alerts[0].Rule != notify.TestRule {
		t.Errorf("test alert body %+v, %v", body, err)
	}

	r = runCLI(t, "", env, "notify", "test", "--config", cfg, "--sink", "hook")
	if r.code != exitError || !strings.Contains(r.stderr, "404") || strings.Contains(r.stderr, "s3cr3t") {
		t.Errorf("404: exit %d, stderr %q", r.code, r.stderr)
	}

	for _, args := range [][]string{
		{"notify", "test", "--config", cfg, "--sink", "nope"},
		{"notify", "test", "--config", cfg},
	} {
		if r := runCLI(t, "", env, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func TestNotifyRetry(t *testing.T) {
	ctx := context.Background()
	db := tempDB(t)
	st, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := notifytest.Alert()
	if _, err := iamwatch.ClaimAlert(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(ctx, a.DedupKey, []string{"hook", "mail"}, notifytest.Time); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hook", "mail"} {
		if err := st.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: a.DedupKey, Severity: a.Severity, Sink: s, Status: iamwatch.DeliveryFailed, Attempts: 1, LastError: "permanent: 404"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	r := runCLI(t, "", nil, "notify", "retry", "--db", db, "--sink", "hook")
	if r.code != exitOK || r.stdout != "1 failed delivery of sink hook set back to pending\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", nil, "notify", "retry", "--db", db)
	if r.code != exitOK || r.stdout != "1 failed delivery of all sinks set back to pending\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	st, err = sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, _ := st.Deliveries(ctx, a.DedupKey)
	for _, d := range ds {
		if d.Status != iamwatch.DeliveryPending {
			t.Errorf("%s: %s", d.Sink, d.Status)
		}
	}
}
