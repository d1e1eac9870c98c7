package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeSetupLink: serve over a scanned sample prints a one-time link
// that opens the set-up page, answers sign-in, and stops on cancel.
func TestServeSetupLink(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitAlerted && r.code != exitOK {
		t.Fatalf("scan --sample: %d\n%s", r.code, r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		defer pw.Close()
		code <- run(ctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, pw)
	}()
	lines := bufio.NewScanner(pr)
	var link string
	for link == "" && lines.Scan() {
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "http://127.0.0.1:") && strings.Contains(l, "/setup?token=") {
			link = l
		}
	}
	if link == "" {
		t.Fatal("serve printed no set-up link")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // drain the rest of the output
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "admin") {
		t.Errorf("GET %s: %d\n%s", link, res.StatusCode, b)
	}
	base := link[:strings.Index(link, "/setup")]
	res, err = http.Get(base + "/alerts")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/signin" {
		t.Errorf("GET /alerts signed out ended at %s, want /signin", res.Request.URL)
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("serve exit code %d after cancel, want 0", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

func TestServeListenChecks(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true, "0.0.0.0": false, "": false, "192.0.2.1": false, "example.com": false} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
	if r := runCLI(t, "", nil, "serve", "--db", tempDB(t), "--listen", "nonsense"); r.code != exitUsage {
		t.Errorf("serve --listen nonsense: %d, want %d\n%s", r.code, exitUsage, r.stderr)
	}
	if r := runCLI(t, "", nil, "serve", "--db", tempDB(t)); r.code != exitError || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("serve over a missing database: %d %q", r.code, r.stderr)
	}
}
