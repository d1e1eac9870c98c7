package notify_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/slack"
	"github.com/iamwatch/iamwatch/notify/webhook"
)

const configYAML = `
notify:
  sinks:
    security-slack:
      type: slack
      rate_limit: 10
      webhook_url: env:SLACK_WEBHOOK_URL
    pager:
      type: webhook
      url: https://example.com/hook
      headers: {X-Team: sec}
    archive:
      type: webhook
      url: https://example.com/all
  routes:
    - sinks: [security-slack]
      min_severity: high
    - sinks: [pager]
      rules: [root-console-login, cloudtrail-*]
      accounts: ["111122223333"]
    - sinks: [archive, pager]
      tags: [sso]
  retry: {max_attempts: 5, base: 10s, max: 30m}
`

func loadConfig(t *testing.T) notify.Config {
	t.Helper()
	var file struct {
		Notify notify.Config `yaml:"notify"`
	}
	if err := yaml.Unmarshal([]byte(configYAML), &file); err != nil {
		t.Fatal(err)
	}
	return file.Notify
}

func TestConfigYAML(t *testing.T) {
	c := loadConfig(t)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.SinkNames(); !slices.Equal(got, []string{"archive", "pager", "security-slack"}) {
		t.Errorf("sinks %v", got)
	}
	s := c.Sinks["security-slack"]
	if s.Type != "slack" || s.RateLimit != 10 || s.Settings["webhook_url"] != "env:SLACK_WEBHOOK_URL" {
		t.Errorf("security-slack = %+v", s)
	}
	if _, ok := s.Settings["type"]; ok {
		t.Error("type leaked into settings")
	}
	if c.Routes[0].MinSeverity != iamwatch.SeverityHigh {
		t.Errorf("min_severity = %v", c.Routes[0].MinSeverity)
	}
	if c.Retry.MaxAttempts != 5 || c.Retry.Base != 10*time.Second || c.Retry.Max != 30*time.Minute {
		t.Errorf("retry = %+v", c.Retry)
	}
	if got := c.RateLimits(); len(got) != 1 || got["security-slack"] != 10 {
		t.Errorf("RateLimits = %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		c    notify.Config
		want string
	}{
		{"unknown sink in route", notify.Config{Sinks: map[string]notify.SinkConfig{"a": {Type: "slack"}}, Routes: []notify.Route{{Sinks: []string{"b"}}}}, `unknown sink "b"`},
		{"no type", notify.Config{Sinks: map[string]notify.SinkConfig{"a": {}}}, "type is required"},
		{"bad name", notify.Config{Sinks: map[string]notify.SinkConfig{"A B": {Type: "x"}}}, "name must be"},
		{"negative rate", notify.Config{Sinks: map[string]notify.SinkConfig{"a": {Type: "x", RateLimit: -1}}}, "negative"},
		{"route without sinks", notify.Config{Routes: []notify.Route{{}}}, "no sinks"},
		{"bad pattern", notify.Config{Sinks: map[string]notify.SinkConfig{"a": {Type: "x"}}, Routes: []notify.Route{{Sinks: []string{"a"}, Rules: []string{"["}}}}, "rule pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestBuildSinks(t *testing.T) {
	c := loadConfig(t)
	builders := map[string]notify.Builder{"slack": slack.Build, "webhook": webhook.Build}
	env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/s3cr3t"}
	deps := notify.Deps{Secrets: &notify.Resolver{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	sinks, err := notify.BuildSinks(context.Background(), c, builders, deps)
	if err != nil {
		t.Fatal(err)
	}
	if len(sinks) != 3 || sinks["pager"].Name() != "pager" {
		t.Errorf("sinks = %v", sinks)
	}

	delete(env, "SLACK_WEBHOOK_URL")
	_, err = notify.BuildSinks(context.Background(), c, builders, deps)
	if err == nil || !strings.Contains(err.Error(), `sink "security-slack" (slack): secret env:SLACK_WEBHOOK_URL: variable not set`) {
		t.Errorf("missing secret: err = %v", err)
	}

	c.Sinks["pager"].Settings["hedaers"] = map[string]string{"x": "y"}
	_, err = notify.BuildSinks(context.Background(), c, builders, notify.Deps{})
	if err == nil || !strings.Contains(err.Error(), "hedaers") {
		t.Errorf("typo in settings: err = %v", err)
	}

	_, err = notify.BuildSinks(context.Background(), c, map[string]notify.Builder{}, deps)
	if err == nil || !strings.Contains(err.Error(), `unknown type "slack"`) {
		t.Errorf("unknown type: err = %v", err)
	}
}

func TestRouterSinks(t *testing.T) {
	c := loadConfig(t)
	r, err := notify.NewRouter(c, openStore(t), time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := func(mod func(*iamwatch.Alert)) iamwatch.Alert {
		x := notifytest.Alert()
		x.Tags = nil
		mod(&x)
		return x
	}
	tests := []struct {
		name  string
		alert iamwatch.Alert
		want  []string
	}{
		{"critical root login in the account", a(func(*iamwatch.Alert) {}), []string{"pager", "security-slack"}},
		{"other account", a(func(x *iamwatch.Alert) { x.AccountID = "999" }), []string{"security-slack"}},
		{"low severity root login", a(func(x *iamwatch.Alert) { x.Severity = iamwatch.SeverityLow }), []string{"pager"}},
		{"rule pattern", a(func(x *iamwatch.Alert) { x.Rule = "cloudtrail-stop-logging"; x.Severity = iamwatch.SeverityMedium }), []string{"pager"}},
		{"tag", a(func(x *iamwatch.Alert) { x.Rule = "x"; x.Severity = 0; x.Tags = []string{"sso"} }), []string{"archive", "pager"}},
		{"nothing", a(func(x *iamwatch.Alert) { x.Rule = "x"; x.Severity = 0 }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Sinks(&tt.alert); !slices.Equal(got, tt.want) {
				t.Errorf("Sinks = %v, want %v", got, tt.want)
			}
		})
	}
	// No routes: everything everywhere.
	c.Routes = nil
	r, _ = notify.NewRouter(c, openStore(t), time.Now, nil)
	x := a(func(x *iamwatch.Alert) { x.Severity = 0 })
	if got := r.Sinks(&x); len(got) != 3 {
		t.Errorf("without routes: %v", got)
	}
}
