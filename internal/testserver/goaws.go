package testserver

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
)

// GoAWSOptions is what a goaws emulator starts with. Region defaults to
// us-east-1 and AccountID to 100010001000.
type GoAWSOptions struct {
	Region    string
	AccountID string
	Queues    []string
	Topics    []GoAWSTopic
}

// GoAWSTopic is an SNS topic created at start, with its subscriptions.
type GoAWSTopic struct {
	Name          string
	Subscriptions []GoAWSSubscription
}

// GoAWSSubscription subscribes an SQS queue (created as needed) to a topic.
// Raw is SNS raw message delivery (message attributes become SQS message
// attributes); FilterPolicy is a JSON SNS filter policy, or "".
type GoAWSSubscription struct {
	QueueName    string
	Raw          bool
	FilterPolicy string
}

// GoAWS is a running goaws SNS/SQS emulator.
type GoAWS struct {
	Endpoint  string // e.g. http://127.0.0.1:1234, for both SNS and SQS.
	Region    string
	AccountID string
}

// TopicARN returns the ARN goaws gives topic name.
func (g *GoAWS) TopicARN(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", g.Region, g.AccountID, name)
}

// StartGoAWS starts goaws (through the goawsloopback tool, bound to
// 127.0.0.1 on a free port) with a config file written from o, and stops it
// in t.Cleanup.
func StartGoAWS(t testing.TB, o GoAWSOptions) *GoAWS {
	t.Helper()
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "100010001000"
	}
	bin := ToolBinary(t, "goawsloopback")
	dir := t.TempDir()
	var lastErr error
	for attempt := range 2 {
		port := strconv.Itoa(FreePort(t))
		env := map[string]any{
			"Host":      "127.0.0.1",
			"Port":      port,
			"Region":    o.Region,
			"AccountId": o.AccountID,
			"QueueAttributeDefaults": map[string]any{
				"VisibilityTimeout": 30, "ReceiveMessageWaitTimeSeconds": 0, "MaximumMessageSize": 262144,
			},
			"Queues": queuesConfig(o.Queues),
			"Topics": o.Topics,
		}
		cfg, err := json.Marshal(map[string]any{"Local": env}) // JSON is YAML.
		if err != nil {
			t.Fatalf("testserver: goaws config: %v", err)
		}
		path := filepath.Join(dir, fmt.Sprintf("goaws-%d.yaml", attempt))
		writeFile(t, path, cfg)
		p := startProcess(t, bin, "-config", path)
		if lastErr = p.waitTCP("127.0.0.1:" + port); lastErr == nil {
			return &GoAWS{Endpoint: "http://127.0.0.1:" + port, Region: o.Region, AccountID: o.AccountID}
		}
	}
	unavailable(t, "goaws: %v", lastErr)
	return nil
}

func queuesConfig(names []string) []map[string]any {
	qs := make([]map[string]any, 0, len(names))
	for _, n := range names {
		qs = append(qs, map[string]any{"Name": n})
	}
	return qs
}
