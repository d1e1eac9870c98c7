package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// Limits of the batch calls, and how unprocessed items are retried.
const (
	batchWriteMax = 25
	batchGetMax   = 100
	batchAttempts = 10 // requests per chunk before giving up on unprocessed items.
	batchBackoff  = 50 * time.Millisecond
	batchMaxWait  = 5 * time.Second
)

// backoff is the wait before retry attempt n (1-based) of unprocessed items.
func backoff(n int) time.Duration {
	d := batchBackoff << (n - 1)
	if d <= 0 || d > batchMaxWait {
		return batchMaxWait
	}
	return d
}

// batchWrite writes reqs to table in chunks of 25, up to s.limit chunks at a
// time, sending UnprocessedItems again with exponential backoff. It fails
// when a chunk still has unprocessed items after batchAttempts requests.
func (s *Store) batchWrite(ctx context.Context, table string, reqs []types.WriteRequest) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.limit)
	for start := 0; start < len(reqs); start += batchWriteMax {
		chunk := reqs[start:min(start+batchWriteMax, len(reqs))]
		g.Go(func() error {
			pending := chunk
			for attempt := 1; ; attempt++ {
				out, err := s.db.BatchWriteItem(gctx, &dynamodb.BatchWriteItemInput{
					RequestItems: map[string][]types.WriteRequest{table: pending},
				})
				if err != nil {
					return fmt.Errorf("batch write %d items to %s: %w", len(pending), table, err)
				}
				pending = out.UnprocessedItems[table]
				if len(pending) == 0 {
					return nil
				}
				if attempt == batchAttempts {
					return fmt.Errorf("batch write to %s: %d items still unprocessed after %d attempts", table, len(pending), attempt)
				}
				if err := s.sleep(gctx, backoff(attempt)); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// batchGet reads the items of keys from table (consistent reads, 100 keys a
// request, unprocessed keys retried with backoff), projecting proj (a
// comma-separated attribute list, or "" for everything). Missing items are
// left out; the order is not kept.
func (s *Store) batchGet(ctx context.Context, table string, keys []item, proj string) ([]item, error) {
	var out []item
	for start := 0; start < len(keys); start += batchGetMax {
		ka := &types.KeysAndAttributes{Keys: keys[start:min(start+batchGetMax, len(keys))], ConsistentRead: aws.Bool(true)}
		if proj != "" {
			ka.ProjectionExpression = aws.String(proj)
		}
		for attempt := 1; ; attempt++ {
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: *ka}})
			if err != nil {
				return nil, fmt.Errorf("batch get %d keys from %s: %w", len(ka.Keys), table, err)
			}
			out = append(out, res.Responses[table]...)
			next, ok := res.UnprocessedKeys[table]
			if !ok || len(next.Keys) == 0 {
				break
			}
			if attempt == batchAttempts {
				return nil, fmt.Errorf("batch get from %s: %d keys still unprocessed after %d attempts", table, len(next.Keys), attempt)
			}
			if err := s.sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
			ka = &next
		}
	}
	return out, nil
}

// scanAll scans table with a consistent read, following pages, and returns
// the matching items. filter may be "".
func (s *Store) scanAll(ctx context.Context, table, filter, proj string, names map[string]string, values item) ([]item, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	if filter != "" {
		in.FilterExpression = aws.String(filter)
	}
	if proj != "" {
		in.ProjectionExpression = aws.String(proj)
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	var out []item
	for {
		res, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// deleteKeys deletes the items of keys from table with BatchWriteItem.
func (s *Store) deleteKeys(ctx context.Context, table string, keys []item) error {
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	return s.batchWrite(ctx, table, reqs)
}
