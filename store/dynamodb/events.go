package dynamodb

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/klauspost/compress/s2"
	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
)

// maxItemBytes keeps an event item under DynamoDB's 400 KB with room for
// attribute names: past it, request_parameters and response_elements are
// left out (the raw record still holds them) and truncated is set; when the
// compressed raw record alone is past it, it is left out too.
const maxItemBytes = 380 << 10

// eventRef is an event to store and its partition key (see shards.go).
type eventRef struct {
	ev  *iamwatch.Event
	key string
}

// eventItem returns the item of e under partition key (event_date) key.
func (s *Store) eventItem(e *iamwatch.Event, key string) item {
	it := make(item, 28)
	setS(it, "event_id", e.ID)
	setS(it, "event_date", key)
	setS(it, "event_time", eventTime(e.Time))
	setS(it, "event_source", e.Source)
	setS(it, "event_name", e.Name)
	setS(it, "event_type", string(e.Type))
	setS(it, "category", e.Category)
	setS(it, "user_name", e.UserName)
	setS(it, "identity_type", e.IdentityType)
	setS(it, "principal_arn", e.PrincipalARN)
	setS(it, "account_id", e.AccountID)
	setS(it, "aws_region", e.Region)
	setS(it, "source_ip", e.SourceIP)
	setS(it, "user_agent", e.UserAgent)
	setS(it, "invoked_by", e.InvokedBy)
	setS(it, "target_role", e.TargetRole)
	setS(it, "request_parameters", string(e.RequestParameters))
	setS(it, "response_elements", string(e.ResponseElements))
	setS(it, "error_code", e.ErrorCode)
	setS(it, "error_message", e.ErrorMessage)
	setS(it, "mfa_used", e.MFAUsed)
	setS(it, "read_only", e.ReadOnly)
	setS(it, "country", e.Geo.Country)
	setS(it, "asn", e.Geo.ASNText())
	setS(it, "as_org", e.Geo.ASOrg)
	var raw []byte
	if len(e.Raw) > 0 {
		raw = s2.Encode(nil, e.Raw)
		it["raw"] = &types.AttributeValueMemberB{Value: raw}
	}
	if len(raw)+len(e.RequestParameters)+len(e.ResponseElements)+len(e.UserAgent)+2048 > maxItemBytes {
		delete(it, "request_parameters")
		delete(it, "response_elements")
		it["truncated"] = &types.AttributeValueMemberBOOL{Value: true}
		if len(raw)+len(e.UserAgent)+len(e.ErrorMessage)+2048 > maxItemBytes {
			// The compressed record alone is too large (only trail files
			// carry such records; EventBridge events are at most 256 KB):
			// the columns are kept, the raw record is not, rather than the
			// PutItem failing the whole file with a ValidationException.
			delete(it, "raw")
		}
	}
	if s.evTTL > 0 && !e.Time.IsZero() {
		setN(it, attrExpires, e.Time.Add(s.evTTL).Unix())
	}
	return it
}

// EventFromItem decodes an events-table item (the raw record decompressed),
// for readers of the table such as queries and exports.
func EventFromItem(it map[string]types.AttributeValue) (iamwatch.Event, error) {
	e := iamwatch.Event{
		ID: getS(it, "event_id"), Source: getS(it, "event_source"), Name: getS(it, "event_name"),
		Type: iamwatch.EventType(getS(it, "event_type")), Category: getS(it, "category"),
		UserName: getS(it, "user_name"), IdentityType: getS(it, "identity_type"), PrincipalARN: getS(it, "principal_arn"),
		AccountID: getS(it, "account_id"), Region: getS(it, "aws_region"), SourceIP: getS(it, "source_ip"),
		UserAgent: getS(it, "user_agent"), InvokedBy: getS(it, "invoked_by"), TargetRole: getS(it, "target_role"),
		ErrorCode: getS(it, "error_code"), ErrorMessage: getS(it, "error_message"),
		MFAUsed: getS(it, "mfa_used"), ReadOnly: getS(it, "read_only"),
		Geo: iamwatch.Geo{Country: getS(it, "country"), ASN: iamwatch.ParseASN(getS(it, "asn")), ASOrg: getS(it, "as_org")},
	}
	var err error
	if e.Time, err = parseEventTime(getS(it, "event_time")); err != nil {
		return e, fmt.Errorf("event %s: event_time: %w", e.ID, err)
	}
	if v := getS(it, "request_parameters"); v != "" {
		e.RequestParameters = []byte(v)
	}
	if v := getS(it, "response_elements"); v != "" {
		e.ResponseElements = []byte(v)
	}
	if b, ok := it["raw"].(*types.AttributeValueMemberB); ok {
		if e.Raw, err = s2.Decode(nil, b.Value); err != nil {
			return e, fmt.Errorf("event %s: decompress raw: %w", e.ID, err)
		}
	}
	return e, nil
}

// PutEvents stores each event not already stored and returns how many were
// new. Repeats within the batch count once. With PutConditional (the
// default) the count is exact under concurrent writers; with PutBatch see
// the package documentation.
func (s *Store) PutEvents(ctx context.Context, events []iamwatch.Event) (int, error) {
	evs := uniqueEvents(events)
	if len(evs) == 0 {
		return 0, nil
	}
	for _, e := range evs {
		if e.ev.ID == "" {
			return 0, fmt.Errorf("dynamodb: put events: event at %s has no ID", eventTime(e.ev.Time))
		}
	}
	if err := s.eventKeys(ctx, evs); err != nil {
		return 0, fmt.Errorf("dynamodb: put %d events: %w", len(evs), err)
	}
	var (
		n   int
		err error
	)
	if s.mode == PutBatch {
		n, err = s.putBatch(ctx, evs)
	} else {
		n, err = s.putConditional(ctx, evs)
	}
	if err != nil {
		return n, fmt.Errorf("dynamodb: put %d events: %w", len(evs), err)
	}
	return n, nil
}

// uniqueEvents returns the first event of each ID.
func uniqueEvents(events []iamwatch.Event) []*eventRef {
	seen := make(map[string]struct{}, len(events))
	out := make([]*eventRef, 0, len(events))
	for i := range events {
		if _, ok := seen[events[i].ID]; ok {
			continue
		}
		seen[events[i].ID] = struct{}{}
		out = append(out, &eventRef{ev: &events[i]})
	}
	return out
}

func (s *Store) putConditional(ctx context.Context, evs []*eventRef) (int, error) {
	var n atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.limit)
	cond := aws.String("attribute_not_exists(event_id)")
	for _, e := range evs {
		g.Go(func() error {
			_, err := s.db.PutItem(gctx, &dynamodb.PutItemInput{
				TableName: aws.String(s.t.Events), Item: s.eventItem(e.ev, e.key), ConditionExpression: cond,
			})
			if _, ok := isConditionFailed(err); ok {
				return nil
			}
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ev.ID, err)
			}
			n.Add(1)
			return nil
		})
	}
	err := g.Wait()
	return int(n.Load()), err
}

// putBatch reads which events exist (BatchGetItem, 100 keys a request) and
// writes the others (BatchWriteItem, 25 a request).
func (s *Store) putBatch(ctx context.Context, evs []*eventRef) (int, error) {
	keys := make([]item, len(evs))
	for i, e := range evs {
		keys[i] = item{"event_date": sv(e.key), "event_id": sv(e.ev.ID)}
	}
	found, err := s.batchGet(ctx, s.t.Events, keys, "event_id")
	if err != nil {
		return 0, err
	}
	exists := make(map[string]bool, len(found))
	for _, it := range found {
		exists[getS(it, "event_id")] = true
	}
	var writes []types.WriteRequest
	for _, e := range evs {
		if !exists[e.ev.ID] {
			writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: s.eventItem(e.ev, e.key)}})
		}
	}
	if err := s.batchWrite(ctx, s.t.Events, writes); err != nil {
		return 0, err
	}
	return len(writes), nil
}
