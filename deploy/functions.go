package deploy

import (
	_ "embed"
	"slices"
)

// Template is deploy/template.yaml: the whole serverless stack.
//
//go:embed template.yaml
var Template []byte

// Forwarder is deploy/forwarder.yaml: the regional forwarder, deployed in
// every other region (with StackSets) to send that region's identity events
// to the home region's event bus.
//
//go:embed forwarder.yaml
var Forwarder []byte

// Function names a Lambda function of the stack. The binary reads it from
// IAMWATCH_FUNCTION (set per function by the template) and builds only what
// that function uses.
type Function string

// The functions.
const (
	Realtime Function = "realtime" // EventBridge events, the ingest queue, the alert topic's outbox.
	Poller   Function = "poller"   // scheduled LookupEvents polling.
	Exporter Function = "exporter" // scheduled Parquet export to the analytics bucket.
	Notifier Function = "notifier" // the alert topic's subscriber: Slack, Teams, webhooks.
)

// Adapter is a package that calls an AWS API, and the interface listing the
// calls. The template's tests read the interface's methods from the source
// and require the template to grant exactly those actions (Service:Method)
// to every function using the adapter.
type Adapter struct {
	Dir       string // package directory, from the module root.
	Interface string // the interface type holding the calls.
	Service   string // the IAM service prefix.
}

// The adapters the functions use.
var (
	AdapterDynamoDB = Adapter{Dir: "store/dynamodb", Interface: "api", Service: "dynamodb"}
	AdapterTopic    = Adapter{Dir: "notify/sns", Interface: "Publisher", Service: "sns"}
	AdapterLookup   = Adapter{Dir: "source/lookup", Interface: "api", Service: "cloudtrail"}
	AdapterSTS      = Adapter{Dir: "source/lookup", Interface: "stsAPI", Service: "sts"}
	AdapterRegions  = Adapter{Dir: "source/lookup", Interface: "regionsAPI", Service: "account"}
	// AdapterAssume is the poller's way into member accounts (PollAccounts):
	// granted only when there are some.
	AdapterAssume  = Adapter{Dir: "source/lookup", Interface: "assumeAPI", Service: "sts"}
	AdapterSecrets = Adapter{Dir: "notify/secretsmanager", Interface: "Getter", Service: "secretsmanager"}
	AdapterObjects = Adapter{Dir: "cmd/iamwatch-lambda", Interface: "s3API", Service: "s3"}
	AdapterExport  = Adapter{Dir: "export/s3", Interface: "api", Service: "s3"}
)

// FunctionSpec is what one function runs and which AWS calls it makes.
type FunctionSpec struct {
	Name      Function
	LogicalID string    // the AWS::Lambda::Function in template.yaml.
	RoleID    string    // its AWS::IAM::Role.
	Adapters  []Adapter // every adapter it builds; nothing else calls AWS.
	Tables    []string  // the store tables it touches (logical IDs).
	// Access, when set, is the DynamoDB actions the function calls on each
	// of its tables (logical ID → actions), and its role grants exactly
	// those per table; nil: every call of the store adapter on every table.
	Access map[string][]string
}

// Uses reports whether the function builds adapter a.
func (f FunctionSpec) Uses(a Adapter) bool { return slices.Contains(f.Adapters, a) }

// Functions lists the stack's functions. cmd/iamwatch-lambda wires each
// from its entry, and the template tests check each role against it.
var Functions = []FunctionSpec{
	{
		Name: Realtime, LogicalID: "RealtimeFunction", RoleID: "RealtimeRole",
		Adapters: []Adapter{AdapterDynamoDB, AdapterTopic, AdapterObjects},
		Tables:   []string{"EventsTable", "AlertsTable", "HitsTable", "DeliveriesTable"},
	},
	{
		Name: Poller, LogicalID: "PollerFunction", RoleID: "PollerRole",
		Adapters: []Adapter{AdapterDynamoDB, AdapterTopic, AdapterLookup, AdapterSTS, AdapterRegions, AdapterAssume},
		Tables:   []string{"EventsTable", "AlertsTable", "HitsTable", "DeliveriesTable", "ControlTable"},
		// No reserved concurrency (new accounts cannot grant any): the
		// schedule (at most hourly) is far longer than the 15-minute
		// timeout, so two polls overlap only when EventBridge delivers a
		// schedule twice; both then store the same events (idempotent) and
		// advance the checkpoints to about the same place.
	},
	{
		Name: Exporter, LogicalID: "ExporterFunction", RoleID: "ExporterRole",
		Adapters: []Adapter{AdapterDynamoDB, AdapterExport},
		Tables:   []string{"EventsTable", "AlertsTable"},
		// Reads only: the day queries of the events, a scan of the alerts.
		// It can neither rewrite nor delete the audit history.
		Access: map[string][]string{
			"EventsTable": {"dynamodb:Query"},
			"AlertsTable": {"dynamodb:Scan"},
		},
	},
	{
		Name: Notifier, LogicalID: "NotifierFunction", RoleID: "NotifierRole",
		Adapters: []Adapter{AdapterDynamoDB, AdapterSecrets},
		Tables:   []string{"AlertsTable", "DeliveriesTable"},
		// Reads alerts (the outbox join) and claims the alerts it makes of
		// CloudWatch alarms; no event table, no scans or batch writes of
		// alerts. TestNotifierSecretSetAfterDeploy records its real calls.
		Access: map[string][]string{
			"AlertsTable":     {"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
			"DeliveriesTable": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"},
		},
		// Instances may flush at once: a delivery is claimed in the outbox
		// before it is sent (iamwatch.Outbox.ClaimDelivery), so only one sends it.
	},
}

// Spec returns the entry of Functions called name.
func Spec(name Function) (FunctionSpec, bool) {
	i := slices.IndexFunc(Functions, func(f FunctionSpec) bool { return f.Name == name })
	if i < 0 {
		return FunctionSpec{}, false
	}
	return Functions[i], true
}
