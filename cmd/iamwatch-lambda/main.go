// Command iamwatch-lambda is the one Lambda binary of the serverless
// deployment (provided.al2023, arm64):
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./cmd/iamwatch-lambda
//
// Each function of deploy/template.yaml runs it with IAMWATCH_FUNCTION set
// to its name (realtime, poller, exporter, notifier); the binary builds the
// clients that function's role allows (deploy.Functions) and serves
// invocations with lambda.Handler, which tells EventBridge events, SQS
// batches, SNS notifications and scheduled tasks apart by their shape.
//
// Environment (set by the template):
//
//	IAMWATCH_FUNCTION            realtime | poller | exporter | notifier
//	IAMWATCH_TABLE_EVENTS, _ALERTS, _HITS, _DELIVERIES, _CONTROL   table names
//	IAMWATCH_TOPIC_ARN           the alert topic (realtime, poller)
//	IAMWATCH_EVENT_TTL_DAYS      events expire after this many days (0: never)
//	IAMWATCH_EVENT_SHARDS        partition keys of a new day's events (1–64; unset: 8)
//	IAMWATCH_KEEP                identity (default) | all
//	IAMWATCH_KEEP_SERVICE_EVENTS true: also store what AWS services do on their own (default false, as scan)
//	IAMWATCH_POLL_REGIONS        regions the poller reads STS events from (comma-separated)
//	IAMWATCH_POLL_ACCOUNTS       member accounts the poller reads too (comma-separated), or empty
//	IAMWATCH_POLL_ROLE           their read role's ARN, {account} standing for each
//	IAMWATCH_SSO_REGION          IAM Identity Center's region, or empty
//	IAMWATCH_NOTIFY_SECRET       the Secrets Manager secret of the webhooks (notifier)
//	IAMWATCH_ANALYTICS_BUCKET    the bucket of the Parquet export (exporter)
//	IAMWATCH_EXPORT_PREFIX       its key prefix (default cloudtrail)
//	IAMWATCH_EXPORT_LOOKBACK_DAYS  days each export run re-checks (default 3)
//	IAMWATCH_LOG_LEVEL           debug | info (default) | warn | error
package main

import (
	"context"
	"os"

	awslambda "github.com/aws/aws-lambda-go/lambda"
)

func main() {
	os.Exit(run(context.Background(), os.Getenv, os.Stderr, func(h any) { awslambda.Start(h) }))
}
