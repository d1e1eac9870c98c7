package dynamodb

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
)

// throttlingDB answers BatchGetItem with nothing found and BatchWriteItem
// by leaving the last item of each request unprocessed, unprocessedFor
// times per chunk (DynamoDB does so under throttling).
type throttlingDB struct {
	api            // other calls are not made: a nil interface panics if they are.
	unprocessedFor int
	writes         int
	written        map[string]bool
	left           map[string]int
}

// Query finds no day's shard marker (the store then writes unsharded, as
// the tests configure it: EventShards 1).
func (f *throttlingDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (f *throttlingDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{}, nil
}

func (f *throttlingDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.writes++
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		last := reqs[len(reqs)-1]
		id := getS(last.PutRequest.Item, "event_id")
		if f.left[id] < f.unprocessedFor {
			f.left[id]++
			out.UnprocessedItems[table] = []types.WriteRequest{last}
			reqs = reqs[:len(reqs)-1]
		}
		for _, r := range reqs {
			f.written[getS(r.PutRequest.Item, "event_id")] = true
		}
	}
	return out, nil
}

func TestBatchWriteRetriesUnprocessed(t *testing.T) {
	evs := make([]iamwatch.Event, 60) // three chunks: 25, 25, 10.
	for i := range evs {
		evs[i] = iamwatch.Event{ID: strings.Repeat("x", i+1), Time: time.Date(2024, 6, 3, 0, 0, i, 0, time.UTC)}
	}
	for _, tt := range []struct {
		name           string
		unprocessedFor int
		wantErr        bool
	}{{"retried until written", 3, false}, {"gives up", batchAttempts, true}} {
		t.Run(tt.name, func(t *testing.T) {
			db := &throttlingDB{unprocessedFor: tt.unprocessedFor, written: map[string]bool{}, left: map[string]int{}}
			var waits []time.Duration
			s, err := newStore(db, nil, Config{PutMode: PutBatch, EventShards: 1, Concurrency: 1, Sleep: func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.PutEvents(t.Context(), evs)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "still unprocessed") {
					t.Fatalf("PutEvents = %d, %v; want an unprocessed-items error", n, err)
				}
				return
			}
			if err != nil || n != 60 || len(db.written) != 60 {
				t.Fatalf("PutEvents = %d, %v; written %d", n, err, len(db.written))
			}
			if db.writes != 3*(1+tt.unprocessedFor) {
				t.Errorf("%d BatchWriteItem requests, want %d", db.writes, 3*(1+tt.unprocessedFor))
			}
			if len(waits) != 9 || waits[0] != batchBackoff || waits[1] != 2*batchBackoff || waits[2] != 4*batchBackoff {
				t.Errorf("waits %v, want exponential backoff per chunk", waits)
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	for n := 1; n < 70; n++ {
		if d := backoff(n); d <= 0 || d > batchMaxWait {
			t.Fatalf("backoff(%d) = %v", n, d)
		}
	}
}

// TestEventItemRoundTrip: an event survives the item form, raw record
// compressed, and an oversized one drops the duplicated columns, not the raw.
func TestEventItemRoundTrip(t *testing.T) {
	s, err := newStore(&throttlingDB{}, nil, Config{EventTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e := iamwatch.Event{ID: "e-1", Time: time.Date(2024, 6, 3, 9, 15, 40, 0, time.UTC), Source: "signin.amazonaws.com", Name: "ConsoleLogin",
		Type: iamwatch.TypeSignin, UserName: "root", IdentityType: "Root", AccountID: "111122223333", SourceIP: "203.0.113.45",
		UserAgent: "Mozilla/5.0 <script>", RequestParameters: []byte(`{"a":1}`), ResponseElements: []byte(`{"ConsoleLogin":"Success"}`),
		MFAUsed: "no", ReadOnly: "false", Raw: []byte(`{"eventID":"e-1","eventName":"ConsoleLogin"}`)}
	it := s.eventItem(&e, "2024-06-03#1")
	got, err := EventFromItem(it)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || !got.Time.Equal(e.Time) || got.UserAgent != e.UserAgent || string(got.Raw) != string(e.Raw) ||
		string(got.RequestParameters) != string(e.RequestParameters) || got.Date() != "2024-06-03" {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
	}
	if exp, _ := getN(it, attrExpires); exp != e.Time.Add(24*time.Hour).Unix() {
		t.Errorf("expires_at = %d", exp)
	}
	big := e
	big.RequestParameters = []byte(`{"policy":"` + strings.Repeat("A", 400<<10) + `"}`)
	big.Raw = big.RequestParameters
	bit := s.eventItem(&big, "2024-06-03#1")
	if _, ok := bit["request_parameters"]; ok {
		t.Error("oversized item kept request_parameters")
	}
	if b, ok := bit["raw"].(*types.AttributeValueMemberB); !ok || len(b.Value) > maxItemBytes {
		t.Errorf("oversized raw not kept compressed (%d bytes)", len(b.Value))
	}
}
