package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/internal/testserver"
	nsns "github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// mutableSecrets answers GetSecretValue with the current value of secret.
type mutableSecrets struct {
	mu     sync.Mutex
	secret string
	calls  int
}

func (m *mutableSecrets) set(s string) { m.mu.Lock(); m.secret = s; m.mu.Unlock() }

func (m *mutableSecrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:hooks", "SecretString": m.secret})
}

// TestNotifierSecretSetAfterDeploy: the documented flow is "deploy, then
// put the webhook URLs in the secret". A warm notifier, started with the
// placeholder secret, must pick the URL up within the secret's TTL and
// deliver the next alert to it, without a cold start.
func TestNotifierSecretSetAfterDeploy(t *testing.T) {
	ctx := t.Context()
	dyn := testserver.StartDynalite(t)
	secrets := &mutableSecrets{secret: `{"slack_webhook_url":"","teams_webhook_url":"","webhook_url":"","webhook_secret":""}`}
	sm := httptest.NewServer(secrets)
	t.Cleanup(sm.Close)
	var hooked atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooked.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	rec, ddb := recordDynamoDB(t, dyn.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tables := dynamodb.DefaultTables("notify-")
	st, err := dynamodb.Open(ctx, dynamodb.Config{Client: awsdynamodb.NewFromConfig(cfg), Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"IAMWATCH_FUNCTION": "notifier", "IAMWATCH_TABLE_EVENTS": tables.Events, "IAMWATCH_TABLE_ALERTS": tables.Alerts,
		"IAMWATCH_TABLE_HITS": tables.Hits, "IAMWATCH_TABLE_DELIVERIES": tables.Deliveries, "IAMWATCH_TABLE_CONTROL": tables.Control,
		"IAMWATCH_NOTIFY_SECRET": "arn:aws:secretsmanager:us-east-1:111122223333:secret:hooks",
	}
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	h, err := build(ctx, func(k string) string { return env[k] }, cfg, slog.New(slog.DiscardHandler), now)
	if err != nil {
		t.Fatal(err)
	}

	// The user sets the webhook after deploying; the warm instance is
	// invoked by the topic some minutes later.
	secrets.set(`{"slack_webhook_url":"","teams_webhook_url":"","webhook_url":"` + hook.URL + `/iamwatch","webhook_secret":""}`)
	skew.Store(int64(5*time.Minute + time.Second))
	a := iamwatch.Alert{DedupKey: "root-login/e-1", Rule: "root-login", Severity: iamwatch.SeverityCritical, Title: "Root login",
		Time: now(), EventIDs: []string{"e-1"}, Count: 1}
	if _, err := iamwatch.ClaimAlert(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	rec.calls = map[[2]string]bool{} // from here on, the notifier's own calls.
	if _, err := h.Invoke(ctx, snsEvent(t, a)); err != nil {
		t.Fatalf("notifier: %v", err)
	}
	if n := hooked.Load(); n != 1 {
		t.Errorf("webhook received %d requests after the secret was set, want 1", n)
	}
	// The stack's own alarms reach the webhook through the same wiring.
	alarm := `{"AlarmName":"iamwatch-RealtimeErrorsAlarm-X1","AlarmDescription":"iamwatch real-time function errors","AWSAccountId":"111122223333",` +
		`"NewStateValue":"ALARM","OldStateValue":"OK","NewStateReason":"Threshold Crossed","StateChangeTime":"2024-06-03T10:00:00.000+0000"}`
	b, err := json.Marshal(map[string]any{"Records": []any{map[string]any{"EventSource": "aws:sns", "Sns": map[string]any{"MessageId": "m-2", "Message": alarm}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(ctx, b); err != nil {
		t.Fatalf("notifier, alarm: %v", err)
	}
	if n := hooked.Load(); n != 2 {
		t.Errorf("webhook received %d requests after an alarm, want 2", n)
	}
	// Least privilege, checked against the calls made: every DynamoDB call
	// of the notifier is one its role grants on that table.
	spec, _ := deploy.Spec(deploy.Notifier)
	logical := map[string]string{tables.Alerts: "AlertsTable", tables.Deliveries: "DeliveriesTable", tables.Events: "EventsTable",
		tables.Hits: "HitsTable", tables.Control: "ControlTable"}
	for tb, acts := range rec.byTable() {
		for _, act := range acts {
			if !slices.Contains(spec.Access[logical[tb]], act) {
				t.Errorf("the notifier called %s on %s, which its role does not grant (deploy.Functions)", act, logical[tb])
			}
		}
	}
	// Within the TTL the secret is not read again.
	before := secrets.calls
	if _, err := h.Invoke(ctx, []byte(`{"iamwatch":"flush"}`)); err != nil {
		t.Fatal(err)
	}
	if secrets.calls != before {
		t.Errorf("a flush within the TTL read the secret %d more times, want 0", secrets.calls-before)
	}
}

func snsEvent(t *testing.T, alerts ...iamwatch.Alert) json.RawMessage {
	t.Helper()
	msg, err := nsns.EncodeAlertMessage(alerts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"EventSource": "aws:sns", "Sns": map[string]any{"MessageId": "m-1", "Message": string(msg)},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
