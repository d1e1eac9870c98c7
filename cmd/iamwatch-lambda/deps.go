package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awssecrets "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/lambda"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/secretsmanager"
	"github.com/iamwatch/iamwatch/notify/slack"
	nsns "github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/notify/teams"
	"github.com/iamwatch/iamwatch/notify/webhook"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/source/lookup"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// topicSink is the alert topic's sink name in the outbox.
const topicSink = "alert-topic"

// run builds the function named by IAMWATCH_FUNCTION and hands its handler
// to start (lambda.Start, which never returns; tests pass a fake). It
// returns 1 when the function cannot be built: Lambda then reports an init
// error, which the template's error alarm catches.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer, start func(handler any)) int {
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv("IAMWATCH_LOG_LEVEL"))}))
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("init: aws config", "error", err)
		return 1
	}
	h, err := build(ctx, getenv, cfg, log, time.Now)
	if err != nil {
		log.Error("init", "error", err)
		return 1
	}
	start(h.Invoke)
	return 0
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// build wires one function: only the adapters its deploy.Functions entry
// lists are constructed, so the binary never calls what the role does not
// grant.
func build(ctx context.Context, getenv func(string) string, cfg aws.Config, log *slog.Logger, now func() time.Time) (*lambda.Handler, error) {
	name := deploy.Function(getenv("IAMWATCH_FUNCTION"))
	spec, ok := deploy.Spec(name)
	if !ok {
		return nil, fmt.Errorf("IAMWATCH_FUNCTION %q is not one of realtime, poller, exporter, notifier", name)
	}
	d := lambda.Deps{Logger: log, Now: now}
	var store *dynamodb.Store
	if spec.Uses(deploy.AdapterDynamoDB) {
		ttlDays, err := optionalInt(getenv("IAMWATCH_EVENT_TTL_DAYS"))
		if err != nil {
			return nil, fmt.Errorf("IAMWATCH_EVENT_TTL_DAYS: %w", err)
		}
		shards, err := optionalInt(getenv("IAMWATCH_EVENT_SHARDS"))
		if err != nil || shards > dynamodb.MaxEventShards {
			return nil, fmt.Errorf("IAMWATCH_EVENT_SHARDS: %q is not a number of shards from 1 to %d (unset: %d)", getenv("IAMWATCH_EVENT_SHARDS"), dynamodb.MaxEventShards, dynamodb.DefaultEventShards)
		}
		store, err = dynamodb.Open(ctx, dynamodb.Config{
			Client: awsdynamodb.NewFromConfig(cfg),
			Tables: dynamodb.Tables{
				Events: getenv("IAMWATCH_TABLE_EVENTS"), Alerts: getenv("IAMWATCH_TABLE_ALERTS"),
				Hits: getenv("IAMWATCH_TABLE_HITS"), Deliveries: getenv("IAMWATCH_TABLE_DELIVERIES"),
				Control: getenv("IAMWATCH_TABLE_CONTROL"),
			},
			EventTTL:    time.Duration(ttlDays) * 24 * time.Hour,
			EventShards: shards, // 0 (unset): the default.
			Now:         now,
		})
		if err != nil {
			return nil, err
		}
	}
	if spec.Uses(deploy.AdapterTopic) {
		if err := wireDetection(ctx, getenv, cfg, store, &d, log, now); err != nil {
			return nil, err
		}
	}
	if spec.Uses(deploy.AdapterObjects) {
		d.Objects = objectReader{client: s3.NewFromConfig(cfg)}
	}
	if spec.Uses(deploy.AdapterSecrets) {
		if err := wireNotifier(ctx, getenv, cfg, store, &d, log, now); err != nil {
			return nil, err
		}
	}
	h, err := lambda.New(d)
	if err != nil {
		return nil, err
	}
	if spec.Uses(deploy.AdapterLookup) {
		backfill, err := pollBackfill(getenv("IAMWATCH_POLL_BACKFILL_DAYS"))
		if err != nil {
			return nil, err
		}
		accounts, err := pollAccounts(getenv("IAMWATCH_POLL_ACCOUNTS"), getenv("IAMWATCH_POLL_ROLE"))
		if err != nil {
			return nil, err
		}
		src, err := lookup.New(lookup.Options{
			AWS: cfg, Store: store, Processor: h.Processor(), Logger: log, Now: now, Backfill: backfill, Accounts: accounts,
			// AWS limits LookupEvents per account and region, so (account,
			// region) groups poll in parallel at no cost to each other: 16 at
			// once keep an organisation's poll well inside the 15-minute
			// timeout (deploy/README.md, "How far it scales").
			Workers: pollWorkers,
			Regions: splitList(getenv("IAMWATCH_POLL_REGIONS")), SSORegion: getenv("IAMWATCH_SSO_REGION"),
		})
		if err != nil {
			return nil, err
		}
		d.Poller = src
		if h, err = lambda.New(d); err != nil {
			return nil, err
		}
	}
	if spec.Uses(deploy.AdapterExport) {
		x, err := newExporter(getenv, store, s3.NewFromConfig(cfg), log)
		if err != nil {
			return nil, err
		}
		d.Exporter = x
		if h, err = lambda.New(d); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// wireDetection sets up the pipeline: the rule catalog with threshold
// state in the store, and alerts enqueued for the alert topic and
// published at once. IAMWATCH_GEOIP (comma-separated .mmdb paths, e.g. in
// a Lambda layer under /opt; unset: no GeoIP) locates source IPs: the
// files stay open, memory-mapped, for the life of the instance.
func wireDetection(ctx context.Context, getenv func(string) string, cfg aws.Config, store *dynamodb.Store, d *lambda.Deps, log *slog.Logger, now func() time.Time) error {
	arn := getenv("IAMWATCH_TOPIC_ARN")
	if arn == "" {
		return errors.New("IAMWATCH_TOPIC_ARN is not set")
	}
	filter, err := filterOf(getenv)
	if err != nil {
		return err
	}
	rs, err := rules.Load()
	if err != nil {
		return err
	}
	var dc detect.Config
	if files := splitList(getenv("IAMWATCH_GEOIP")); len(files) > 0 {
		db, err := geoip.Open(files...)
		if err != nil {
			return fmt.Errorf("IAMWATCH_GEOIP: %w", err)
		}
		dc.Geo = db
		log.LogAttrs(ctx, slog.LevelInfo, "geoip", slog.Any("types", db.Types()))
	}
	engine, err := detect.New(rs, dc)
	if err != nil {
		return err
	}
	sink, err := nsns.NewStructured(topicSink, arn, sns.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	sinks := map[string]notify.Sink{topicSink: sink}
	router, err := notify.NewRouter(notify.Config{Sinks: map[string]notify.SinkConfig{topicSink: {Type: "topic"}}, Digest: lambda.Digest()}, store, now, nil)
	if err != nil {
		return err
	}
	d.Store, d.Detector, d.Filter = store, engine, filter
	d.Enqueue = func(ctx context.Context, a iamwatch.Alert) error {
		_, err := router.Enqueue(ctx, a)
		return err
	}
	d.Publish = lambda.Publisher(store, sinks, notify.RetryPolicy{}, now, log)
	d.Flush = lambda.Flusher(store, sinks, notify.RetryPolicy{}, now, log)
	return nil
}

// Webhook keys of the notifier's secret (a JSON object); each one present
// and not empty turns a sink on.
const (
	keySlack         = "slack_webhook_url"
	keyTeams         = "teams_webhook_url"
	keyWebhook       = "webhook_url"
	keyWebhookSecret = "webhook_secret"
)

// secretTTL is how long the notifier trusts the webhook secret it read: a
// URL put in the secret after deploying (the documented flow) reaches a
// warm instance within this time, without a cold start.
const secretTTL = 5 * time.Minute

// wireNotifier builds the notifier's sinks from the webhook secret, read at
// init (an unreadable secret fails the init) and again, when its TTL has
// passed, at each invocation; a changed secret rebuilds the sinks.
func wireNotifier(ctx context.Context, getenv func(string) string, cfg aws.Config, store *dynamodb.Store, d *lambda.Deps, log *slog.Logger, now func() time.Time) error {
	arn := getenv("IAMWATCH_NOTIFY_SECRET")
	if arn == "" {
		return errors.New("IAMWATCH_NOTIFY_SECRET is not set")
	}
	n := &liveNotifier{arn: arn, lookup: secretsmanager.Lookup(&cachedSecrets{client: awssecrets.NewFromConfig(cfg), ttl: secretTTL, now: now}),
		store: store, log: log, now: now}
	if err := n.refresh(ctx); err != nil {
		return err
	}
	d.Flush = func(ctx context.Context) error {
		flush, _ := n.current(ctx)
		return flush(ctx)
	}
	d.Notify = func(ctx context.Context, alerts []iamwatch.Alert) error {
		_, notify := n.current(ctx)
		return notify(ctx, alerts)
	}
	d.Alarms = store // the stack's CloudWatch alarms reach Slack, Teams and webhooks too.
	return nil
}

// liveNotifier holds the notifier's sinks as the webhook secret last read
// defines them. Safe for concurrent use.
type liveNotifier struct {
	arn    string
	lookup notify.SecretLookup
	store  *dynamodb.Store
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	raw    string // the secret the sinks were built from.
	flush  func(context.Context) error
	notify func(context.Context, []iamwatch.Alert) error
}

// refresh reads the secret (cached for secretTTL) and rebuilds the sinks
// when it changed.
func (n *liveNotifier) refresh(ctx context.Context) error {
	raw, err := n.lookup(ctx, n.arn)
	if err != nil {
		return fmt.Errorf("notifier secret: %w", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.flush != nil && raw == n.raw {
		return nil
	}
	flush, notify, err := buildNotifier(ctx, n.arn, raw, n.lookup, n.store, n.log, n.now)
	if err != nil {
		return err
	}
	n.raw, n.flush, n.notify = raw, flush, notify
	return nil
}

// current returns the flush and notify of the latest secret; when it
// cannot be read or built, those of the one before (logged).
func (n *liveNotifier) current(ctx context.Context) (func(context.Context) error, func(context.Context, []iamwatch.Alert) error) {
	if err := n.refresh(ctx); err != nil {
		n.log.LogAttrs(ctx, slog.LevelError, "notifier secret: keeping the destinations read before", slog.String("error", err.Error()))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.flush, n.notify
}

// buildNotifier builds a sink for each destination the secret raw names,
// and the flush and notify over them.
func buildNotifier(ctx context.Context, arn, raw string, lookupSecret notify.SecretLookup, store *dynamodb.Store, log *slog.Logger, now func() time.Time) (func(context.Context) error, func(context.Context, []iamwatch.Alert) error, error) {
	var keys map[string]any
	if err := json.Unmarshal([]byte(raw), &keys); err != nil {
		return nil, nil, errors.New("notifier secret: not a JSON object") // no detail: it would quote the secret.
	}
	ref := func(key string) string { return "secretsmanager:" + arn + "#" + key }
	has := func(key string) bool { s, _ := keys[key].(string); return s != "" }
	nc := notify.Config{Sinks: map[string]notify.SinkConfig{}, Digest: lambda.Digest()}
	if has(keySlack) {
		nc.Sinks["slack"] = notify.SinkConfig{Type: "slack", Settings: notify.Settings{"webhook_url": ref(keySlack)}}
	}
	if has(keyTeams) {
		nc.Sinks["teams"] = notify.SinkConfig{Type: "teams", Settings: notify.Settings{"webhook_url": ref(keyTeams)}}
	}
	if has(keyWebhook) {
		s := notify.Settings{"url": ref(keyWebhook)}
		if has(keyWebhookSecret) {
			s["secret"] = ref(keyWebhookSecret)
		}
		nc.Sinks["webhook"] = notify.SinkConfig{Type: "webhook", Settings: s}
	}
	if len(nc.Sinks) == 0 {
		log.Warn("notifier: the secret names no destination; alerts reach e-mail subscribers only",
			"keys", []string{keySlack, keyTeams, keyWebhook}, "reread_after", secretTTL.String())
	}
	deps := notify.Deps{
		Secrets: &notify.Resolver{Lookups: map[string]notify.SecretLookup{"secretsmanager": lookupSecret}},
		Now:     now, Logger: log,
	}
	sinks, err := notify.BuildSinks(ctx, nc, map[string]notify.Builder{"slack": slack.Build, "teams": teams.Build, "webhook": webhook.Build}, deps)
	if err != nil {
		return nil, nil, err
	}
	router, err := notify.NewRouter(nc, store, now, nil)
	if err != nil {
		return nil, nil, err
	}
	flush := lambda.Flusher(store, sinks, notify.RetryPolicy{}, now, log)
	return flush, lambda.Notifier(router, flush), nil
}

// cachedSecrets reads each secret at most once per ttl, however many
// references name its keys. A failed read is not cached.
type cachedSecrets struct {
	client secretsmanager.Getter
	ttl    time.Duration
	now    func() time.Time
	mu     sync.Mutex
	cache  map[string]cachedSecret
}

type cachedSecret struct {
	out  *awssecrets.GetSecretValueOutput
	read time.Time
}

func (c *cachedSecrets) GetSecretValue(ctx context.Context, in *awssecrets.GetSecretValueInput, opts ...func(*awssecrets.Options)) (*awssecrets.GetSecretValueOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := aws.ToString(in.SecretId)
	if e, ok := c.cache[id]; ok && c.now().Sub(e.read) < c.ttl {
		return e.out, nil
	}
	out, err := c.client.GetSecretValue(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	if c.cache == nil {
		c.cache = map[string]cachedSecret{}
	}
	c.cache[id] = cachedSecret{out: out, read: c.now()}
	return out, nil
}

// pollWorkers is the (account, region) groups the poller reads at once.
const pollWorkers = 16

// defaultPollBackfill is how far back a stream without a checkpoint starts
// (the first poll of a new stack): one day, longer than the longest poll
// schedule, so the first poll reads the time since the stack was created
// and writes the checkpoints every later poll goes on from. Without it the
// first window would end before it starts, nothing would be read and no
// checkpoint ever written.
const defaultPollBackfill = 24 * time.Hour

// pollBackfill reads IAMWATCH_POLL_BACKFILL_DAYS (1 to 90; unset: one day).
func pollBackfill(s string) (time.Duration, error) {
	if s == "" {
		return defaultPollBackfill, nil
	}
	n, err := optionalInt(s)
	if err != nil || n < 1 || time.Duration(n)*24*time.Hour > lookup.MaxBackfill {
		return 0, fmt.Errorf("IAMWATCH_POLL_BACKFILL_DAYS: %q is not a number of days from 1 to 90", s)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// pollAccounts reads IAMWATCH_POLL_ACCOUNTS (comma-separated account IDs of
// member accounts, or empty) and IAMWATCH_POLL_ROLE (the ARN of their read
// role, forwarder.yaml's LookupReadRole, with {account} for the account):
// the poller's own account (its own credentials) and a role per member.
// Unset, only the own account is polled.
func pollAccounts(ids, role string) ([]lookup.Account, error) {
	list := splitList(ids)
	if len(list) == 0 {
		return nil, nil
	}
	if !strings.Contains(role, "{account}") || !strings.HasPrefix(role, "arn:") {
		return nil, fmt.Errorf("IAMWATCH_POLL_ROLE: %q is not a role ARN with {account} in it", role)
	}
	out := []lookup.Account{{}} // the own account.
	for _, id := range list {
		if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			return nil, fmt.Errorf("IAMWATCH_POLL_ACCOUNTS: %q is not an account ID", id)
		}
		out = append(out, lookup.Account{RoleARN: strings.ReplaceAll(role, "{account}", id)})
	}
	return out, nil
}

func optionalInt(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number of days", s)
	}
	return n, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// filterOf is the realtime and poller functions' keep policy: what scan and
// run store by default (identity events, less what AWS services do on their
// own and service-linked roles read), IAMWATCH_KEEP and
// IAMWATCH_KEEP_SERVICE_EVENTS as scan's --keep and --keep-service-events.
func filterOf(getenv func(string) string) (pipeline.Filter, error) {
	keep, err := pipeline.ParseKeep(getenv("IAMWATCH_KEEP"))
	if err != nil {
		return pipeline.Filter{}, err
	}
	keepService := false
	if s := getenv("IAMWATCH_KEEP_SERVICE_EVENTS"); s != "" {
		if keepService, err = strconv.ParseBool(s); err != nil {
			return pipeline.Filter{}, fmt.Errorf("IAMWATCH_KEEP_SERVICE_EVENTS %q: want true or false", s)
		}
	}
	return pipeline.Filter{Keep: keep, DropServiceEvents: !keepService}, nil
}
