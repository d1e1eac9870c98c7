package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
)

// api is every DynamoDB call the store makes at run time. The deployment
// template grants exactly these actions (deploy's tests read this interface),
// so a new call here fails those tests until the template grants it.
type api interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// adminAPI is what CreateTables needs on top; only tests and development
// setups call it, so the deployed functions are not granted it.
type adminAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var (
	_ iamwatch.Store = (*Store)(nil)
	_ api            = (*dynamodb.Client)(nil)
	_ adminAPI       = (*dynamodb.Client)(nil)
)

// PutMode is how PutEvents writes; see the package documentation.
type PutMode int

// The put modes.
const (
	PutConditional PutMode = iota // conditional PutItem per event: exact counts (the default).
	PutBatch                      // BatchGetItem, then BatchWriteItem of the missing events.
)

// Defaults.
const (
	DefaultAlertTTL    = 30 * 24 * time.Hour
	DefaultConcurrency = 16
	// MaxAlertEventIDs bounds the event IDs one alert keeps, so a long
	// burst cannot grow an item past DynamoDB's 400 KB.
	MaxAlertEventIDs = 1000
)

// Config configures a Store. Client is required.
type Config struct {
	Client *dynamodb.Client
	// Tables names the tables; empty names default to DefaultTables(Prefix).
	Tables Tables
	Prefix string
	// EventTTL, when positive, sets expires_at on events to event time +
	// EventTTL (effective where the table's TTL is on).
	EventTTL time.Duration
	// AlertTTL sets expires_at on alerts, their deliveries and threshold
	// hits to the claim's wall-clock time + AlertTTL. 0 means
	// DefaultAlertTTL; negative means no expiry.
	AlertTTL time.Duration
	// Concurrency bounds the requests one call has in flight (PutEvents,
	// Enqueue, Prune). 0 means DefaultConcurrency.
	Concurrency int
	PutMode     PutMode
	// EventShards is the partition keys one day's events are spread over
	// (see shards.go): 0 means DefaultEventShards, 1 the unsharded layout of
	// before; at most MaxEventShards. A day keeps the count its first
	// writer used.
	EventShards int
	// Now is the wall clock (expiry times). nil means time.Now.
	Now func() time.Time
	// Sleep waits between BatchWriteItem retries and between the attempts
	// of a contended baseline merge; nil waits on a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Store is the DynamoDB store. It holds no state besides its configuration
// and a cache of each day's shard count (which never changes once
// written), and is safe for concurrent use.
type Store struct {
	db    api
	admin adminAPI // nil when the client cannot create tables.
	t     Tables
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	limit int
	alTTL time.Duration
	evTTL time.Duration
	mode  PutMode

	shards   int         // configured shards of a new day.
	shardsOf *shardCache // each day's shards, once known.
}

// Open returns a store over the tables of cfg. It makes no request: a
// missing table shows on first use (or call CreateTables).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("dynamodb: open: Config.Client is required")
	}
	return newStore(cfg.Client, cfg.Client, cfg)
}

// newStore is Open over any implementation of the calls (tests pass fakes).
func newStore(db api, admin adminAPI, cfg Config) (*Store, error) {
	t := cfg.Tables.withDefaults(cfg.Prefix)
	if err := t.validate(); err != nil {
		return nil, fmt.Errorf("dynamodb: open: %w", err)
	}
	if cfg.Concurrency < 0 || cfg.EventTTL < 0 {
		return nil, errors.New("dynamodb: open: Concurrency and EventTTL must not be negative")
	}
	if cfg.EventShards < 0 || cfg.EventShards > MaxEventShards {
		return nil, fmt.Errorf("dynamodb: open: EventShards %d is outside 0–%d", cfg.EventShards, MaxEventShards)
	}
	if cfg.PutMode != PutConditional && cfg.PutMode != PutBatch {
		return nil, fmt.Errorf("dynamodb: open: unknown put mode %d", cfg.PutMode)
	}
	s := &Store{db: db, admin: admin, t: t, now: cfg.Now, sleep: cfg.Sleep,
		limit: cfg.Concurrency, alTTL: cfg.AlertTTL, evTTL: cfg.EventTTL, mode: cfg.PutMode,
		shards: cfg.EventShards, shardsOf: &shardCache{}}
	if s.shards == 0 {
		s.shards = DefaultEventShards
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if s.limit == 0 {
		s.limit = DefaultConcurrency
	}
	if s.alTTL == 0 {
		s.alTTL = DefaultAlertTTL
	}
	return s, nil
}

// Tables returns the table names the store uses.
func (s *Store) Tables() Tables { return s.t }

// Close releases nothing (the client belongs to the caller); it exists for
// iamwatch.Store.
func (s *Store) Close() error { return nil }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// alertExpiry is the expires_at of an alert claimed now, or 0 for none.
func (s *Store) alertExpiry() int64 {
	if s.alTTL < 0 {
		return 0
	}
	return s.now().Add(s.alTTL).Unix()
}

// isConditionFailed reports whether err is a failed condition expression.
func isConditionFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var cf *types.ConditionalCheckFailedException
	return cf, errors.As(err, &cf)
}

// item is one DynamoDB item.
type item = map[string]types.AttributeValue

// setS sets a string attribute, leaving empty strings out (key attributes
// of indexes may not be empty, and absent reads back as "").
func setS(it item, name, v string) {
	if v != "" {
		it[name] = &types.AttributeValueMemberS{Value: v}
	}
}

func setN(it item, name string, v int64) {
	it[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// setMillis sets a wall-clock time as epoch milliseconds; zero is left out.
func setMillis(it item, name string, t time.Time) {
	if !t.IsZero() {
		setN(it, name, t.UnixMilli())
	}
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func nv(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it item, name string) (int64, error) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

func getMillis(it item, name string) (time.Time, error) {
	if _, ok := it[name]; !ok {
		return time.Time{}, nil
	}
	n, err := getN(it, name)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(n).UTC(), nil
}

// eventTime is how event times (event_time, alert times) are written: text,
// whole seconds, so they sort as strings.
func eventTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(iamwatch.TimeFormat)
}

// eventTimeCeil is the smallest stored event time >= t, for "< t" bounds
// given with sub-second precision.
func eventTimeCeil(t time.Time) string {
	if tt := t.Truncate(time.Second); !tt.Equal(t) {
		t = tt.Add(time.Second)
	}
	return eventTime(t)
}

func parseEventTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(iamwatch.TimeFormat, s)
}

func getList(it item, name string) []string {
	l, ok := it[name].(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, v := range l.Value {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			out = append(out, s.Value)
		}
	}
	return out
}

func setList(it item, name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	l := make([]types.AttributeValue, len(vs))
	for i, v := range vs {
		l[i] = sv(v)
	}
	it[name] = &types.AttributeValueMemberL{Value: l}
}
