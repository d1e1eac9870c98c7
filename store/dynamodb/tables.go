package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tables names the store's tables.
type Tables struct {
	Events, Alerts, Hits, Deliveries, Control string
}

// DefaultTables returns prefix + "events", "alerts", "hits", "deliveries",
// "control" (prefix "" means "iamwatch-").
func DefaultTables(prefix string) Tables {
	if prefix == "" {
		prefix = "iamwatch-"
	}
	return Tables{Events: prefix + "events", Alerts: prefix + "alerts", Hits: prefix + "hits",
		Deliveries: prefix + "deliveries", Control: prefix + "control"}
}

func (t Tables) withDefaults(prefix string) Tables {
	d := DefaultTables(prefix)
	for _, p := range []struct{ v, d *string }{{&t.Events, &d.Events}, {&t.Alerts, &d.Alerts}, {&t.Hits, &d.Hits}, {&t.Deliveries, &d.Deliveries}, {&t.Control, &d.Control}} {
		if *p.v == "" {
			*p.v = *p.d
		}
	}
	return t
}

func (t Tables) validate() error {
	seen := map[string]bool{}
	for _, n := range []string{t.Events, t.Alerts, t.Hits, t.Deliveries, t.Control} {
		if len(n) < 3 || len(n) > 255 {
			return fmt.Errorf("table name %q: want 3 to 255 characters", n)
		}
		if seen[n] {
			return fmt.Errorf("table name %q used twice", n)
		}
		seen[n] = true
	}
	return nil
}

// Attribute and index names.
const (
	attrExpires = "expires_at" // the TTL attribute of every table (epoch seconds).
	indexByTime = "by_time"
)

// IndexedColumns are the short non-key event columns (the export reads them
// without the raw record). The events table has no secondary index: no
// code path queries events by user or name (Athena over the exports does),
// and each index would cost a write unit per new event and a hot partition
// key (event_name) able to throttle the table.
func IndexedColumns() []string {
	return []string{"event_source", "event_type", "identity_type", "account_id", "aws_region",
		"source_ip", "error_code", "mfa_used"}
}

// TTLAttribute is the attribute every table's TimeToLiveSpecification names.
const TTLAttribute = attrExpires

// Definitions returns the CreateTable input of every table: keys, indexes
// and on-demand billing. The template declares the same (its tests compare).
func (t Tables) Definitions() []*dynamodb.CreateTableInput {
	attr := func(name string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		k := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
		if rng != "" {
			k = append(k, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
		}
		return k
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return []*dynamodb.CreateTableInput{
		{
			TableName:   aws.String(t.Events),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				attr("event_date", types.ScalarAttributeTypeS), attr("event_id", types.ScalarAttributeTypeS),
			},
			KeySchema: key("event_date", "event_id"),
		},
		{
			TableName:            aws.String(t.Alerts),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attr("dedup_key", types.ScalarAttributeTypeS)},
			KeySchema:            key("dedup_key", ""),
		},
		{
			TableName:   aws.String(t.Hits),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				attr("series", types.ScalarAttributeTypeS), attr("event_id", types.ScalarAttributeTypeS),
				attr("hit_time", types.ScalarAttributeTypeN),
			},
			KeySchema: key("series", "event_id"),
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{
				{IndexName: aws.String(indexByTime), KeySchema: key("series", "hit_time"), Projection: all},
			},
		},
		{
			TableName:   aws.String(t.Deliveries),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				attr("alert_key", types.ScalarAttributeTypeS), attr("sink", types.ScalarAttributeTypeS),
			},
			KeySchema: key("alert_key", "sink"),
		},
		{
			TableName:            aws.String(t.Control),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{attr("key", types.ScalarAttributeTypeS)},
			KeySchema:            key("key", ""),
		},
	}
}

// CreateTables creates the tables that do not exist and waits until all are
// active. It is for tests and development; deployments create the tables
// with the template (which also turns on TTL, encryption and point-in-time
// recovery, which this does not).
func (s *Store) CreateTables(ctx context.Context) error {
	if s.admin == nil {
		return errors.New("dynamodb: create tables: the client cannot create tables")
	}
	for _, in := range s.t.Definitions() {
		_, err := s.admin.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("dynamodb: create table %s: %w", *in.TableName, err)
		}
	}
	for _, in := range s.t.Definitions() {
		if err := s.waitActive(ctx, *in.TableName); err != nil {
			return fmt.Errorf("dynamodb: create table %s: %w", *in.TableName, err)
		}
	}
	return nil
}

func (s *Store) waitActive(ctx context.Context, table string) error {
	deadline := s.now().Add(2 * time.Minute)
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		out, err := s.admin.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("describe: %w", err)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if s.now().After(deadline) {
			return fmt.Errorf("not active after 2 minutes (status %s)", out.Table.TableStatus)
		}
		if err := s.sleep(ctx, wait); err != nil {
			return err
		}
	}
}
