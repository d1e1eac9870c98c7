package sqs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/iamwatch/iamwatch/source/sqs"
)

// BenchmarkConsumer measures the SQS/S3 path end to end: receive from
// goaws, download from the S3 server, decode, store in SQLite (one
// pipeline, no detection), delete. Each message
// names one gzipped trail file. Reports files/s and events/s for each
// worker pool size.
//
//	go test -run '^$' -bench Consumer -benchtime 3x ./source/sqs/
func BenchmarkConsumer(b *testing.B) {
	const files, perFile = 100, 100
	e := newEnv(b)
	var bodies []string
	for i := range files {
		k := trailKey(fmt.Sprintf("bench%04d", i))
		e.trailFile(b, k, perFile)
		bodies = append(bodies, s3Event([2]string{bucket, k}))
	}
	for _, workers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			var elapsed time.Duration
			for range b.N {
				b.StopTimer()
				for i := 0; i < len(bodies); i += 10 {
					var entries []sqstypes.SendMessageBatchRequestEntry
					for j, body := range bodies[i:min(i+10, len(bodies))] {
						entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(body)})
					}
					if _, err := e.queue.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(e.queueURL), Entries: entries}); err != nil {
						b.Fatal(err)
					}
				}
				rec := newRecorderWith(b, nil) // as the trail bucket benchmark: storage, no rules.
				c := e.consumer(b, sqs.Options{Processor: rec, Workers: workers})
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				b.StartTimer()
				start := time.Now()
				go func() { done <- c.Run(ctx) }()
				for {
					if total, _ := rec.result(); total.Events >= files*perFile {
						break
					}
					time.Sleep(time.Millisecond)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				if total, _ := rec.result(); total.Stored != files*perFile {
					b.Fatalf("stored %d, want %d", total.Stored, files*perFile)
				}
				if n := e.messages(b, e.queueURL); n != 0 {
					b.Fatalf("%d messages left", n)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(files*b.N)/elapsed.Seconds(), "files/s")
			b.ReportMetric(float64(files*perFile*b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
