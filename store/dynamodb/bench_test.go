package dynamodb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// benchEvents returns n realistic events with IDs unique to prefix.
func benchEvents(prefix string, n int) []iamwatch.Event {
	base := time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC)
	out := make([]iamwatch.Event, n)
	for i := range out {
		id := fmt.Sprintf("%s-%06d", prefix, i)
		out[i] = iamwatch.Event{
			ID: id, Time: base.Add(time.Duration(i) * time.Second), Source: "sts.amazonaws.com", Name: "AssumeRole",
			Type: iamwatch.TypeSTS, Category: "AwsApiCall", UserName: "deployer", IdentityType: "AssumedRole",
			PrincipalARN: "arn:aws:sts::111122223333:assumed-role/deployer/ci", AccountID: "111122223333",
			Region: "us-east-1", SourceIP: "198.51.100.7", UserAgent: "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22",
			RequestParameters: json.RawMessage(`{"roleArn":"arn:aws:iam::111122223333:role/deployer","roleSessionName":"ci"}`),
			MFAUsed:           "no", ReadOnly: "true",
			Raw: json.RawMessage(`{"eventVersion":"1.08","eventID":"` + id + `","eventName":"AssumeRole","eventSource":"sts.amazonaws.com","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-sdk-go-v2/1.30.0","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/deployer","roleSessionName":"ci"},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE","expiration":"Jun 3, 2024, 1:00:00 AM"}}}`),
		}
	}
	return out
}

// BenchmarkPutEvents compares the two put modes on batches of 100 new
// events (and of 100 repeats) against dynalite, counting requests: the
// emulator's latency is not DynamoDB's, the request count is.
func BenchmarkPutEvents(b *testing.B) {
	client := emulator(b)
	for _, mode := range []struct {
		name string
		mode dynamodb.PutMode
	}{{"conditional", dynamodb.PutConditional}, {"batch", dynamodb.PutBatch}} {
		for _, repeat := range []bool{false, true} {
			name := mode.name + "/new"
			if repeat {
				name = mode.name + "/repeat"
			}
			b.Run(name, func(b *testing.B) {
				var requests int64
				counted := awsdynamodb.New(client.Options(), func(o *awsdynamodb.Options) {
					o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
						return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
							requests++
							return next.HandleInitialize(ctx, in)
						}), middleware.After)
					})
				})
				s := openStore(b, counted, dynamodb.Config{PutMode: mode.mode})
				fixed := benchEvents("fixed", 100)
				if repeat {
					if _, err := s.PutEvents(context.Background(), fixed); err != nil {
						b.Fatal(err)
					}
				}
				requests = 0
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					evs := fixed
					if !repeat {
						evs = benchEvents(fmt.Sprintf("%s-%d", name, i), 100)
					}
					if _, err := s.PutEvents(context.Background(), evs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(requests)/float64(b.N*100), "requests/event")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*100), "µs/event")
			})
		}
	}
}
