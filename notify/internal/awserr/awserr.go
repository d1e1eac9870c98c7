package awserr

import (
	"context"
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/iamwatch/iamwatch/notify"
)

// retryableCodes are error codes that mean "try again later" whatever the
// HTTP status.
var retryableCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "Throttled": true, "TooManyRequestsException": true,
	"LimitExceededException": true, "RequestLimitExceeded": true, "ServiceUnavailable": true,
	"InternalError": true, "InternalFailure": true, "KMSThrottling": true, "KMSThrottlingException": true,
	"RequestTimeout": true, "RequestTimeoutException": true,
}

// Classify wraps err with op and classifies it.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	wrapped := fmt.Errorf("%s: %w", op, err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return wrapped
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if retryableCodes[ae.ErrorCode()] {
			return notify.Retryable(wrapped, 0)
		}
		if ae.ErrorFault() == smithy.FaultClient {
			return notify.Permanent(wrapped)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		if s := re.HTTPStatusCode(); s >= 400 && s < 500 && s != 408 && s != 429 {
			return notify.Permanent(wrapped)
		}
	}
	return notify.Retryable(wrapped, 0)
}
