package main

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/source"
)

// TestPollerMemberAccounts runs the poller as the template configures it
// with PollAccounts, through the real SDK: its own account with its own
// credentials, and each member account through the read role forwarder.yaml
// deploys there (sts:AssumeRole against the STS fake, whose temporary keys
// the LookupEvents fake attributes to the member account), in each region,
// with a checkpoint per account, region and source. A member whose role is
// missing fails alone, in its checkpoints and the poll's error (which the
// function's error alarm sees), and the own account listed among the
// members is polled once, with its own credentials.
func TestPollerMemberAccounts(t *testing.T) {
	ctx := t.Context()
	const (
		self    = "111122223333"
		member  = "444455556666"
		missing = "777788889999" // the StackSet has not reached it.
		role    = "arn:aws:iam::" + member + ":role/iamwatch-lookup"
	)
	w := startPollerWorld(t, testserver.STSOptions{ExternalIDs: map[string]string{role: ""}})
	now := time.Now().UTC()
	at := func(m int) time.Time { return now.Add(time.Duration(-m) * time.Minute).Truncate(time.Second) }
	w.lookup.Add(
		testserver.LookupEvent{ID: "self-create", Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1", Account: self, Time: at(50)},
		testserver.LookupEvent{ID: "member-create", Name: "CreateAccessKey", Source: "iam.amazonaws.com", Region: "us-east-1", Account: member, Time: at(45)},
		testserver.LookupEvent{ID: "member-assume-eu", Name: "AssumeRole", Source: "sts.amazonaws.com", Region: "eu-west-1", Account: member, ReadOnly: "true", Time: at(40)},
		testserver.LookupEvent{ID: "member-assume-us", Name: "AssumeRole", Source: "sts.amazonaws.com", Region: "us-east-1", Account: member, ReadOnly: "true", Time: at(35)},
		testserver.LookupEvent{ID: "missing-create", Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1", Account: missing, Time: at(30)},
	)
	w.env["IAMWATCH_POLL_REGIONS"] = "us-east-1,eu-west-1"
	w.env["IAMWATCH_POLL_ACCOUNTS"] = member + "," + missing + "," + self
	h, err := build(ctx, func(k string) string { return w.env[k] }, w.cfg, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Task(ctx, "poll")
	if err == nil || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), member) {
		t.Errorf("poll error = %v; want the missing member's only", err)
	}
	if got, want := storedIDs(t, w.client, w.tables.Events), []string{"member-assume-eu", "member-assume-us", "member-create", "self-create"}; !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if n := w.sts.AssumeRoleCalls(role); n != 1 {
		t.Errorf("the member role was assumed %d times in one poll, want once (credentials cached over its regions)", n)
	}
	cps, err := w.store.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, cp := range cps {
		status[cp.Key] = cp.Status
	}
	for _, key := range []string{
		"lookup/" + self + "/us-east-1/iam.amazonaws.com", "lookup/" + self + "/eu-west-1/sts.amazonaws.com",
		"lookup/" + member + "/us-east-1/iam.amazonaws.com", "lookup/" + member + "/us-east-1/signin.amazonaws.com",
		"lookup/" + member + "/us-east-1/sts.amazonaws.com", "lookup/" + member + "/eu-west-1/sts.amazonaws.com",
	} {
		if status[key] != source.StatusActive {
			t.Errorf("checkpoint %s: status %q, want active (all: %v)", key, status[key], status)
		}
	}
	if s := status["lookup/"+missing+"/us-east-1/iam.amazonaws.com"]; s != source.StatusError {
		t.Errorf("the missing member's checkpoint: status %q, want error", s)
	}
	if len(status) != 3*4 {
		t.Errorf("%d checkpoints, want 4 streams (iam, signin, 2 × sts) in each of 3 accounts: %v", len(status), status)
	}
}
