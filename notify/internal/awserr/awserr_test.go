package awserr_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/internal/awserr"
)

func responseError(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err,
	}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"throttled client fault", &smithy.GenericAPIError{Code: "Throttling", Fault: smithy.FaultClient}, false},
		{"not found", &smithy.GenericAPIError{Code: "NotFound", Fault: smithy.FaultClient}, true},
		{"server fault", &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}, false},
		{"403 status", responseError(403, errors.New("denied")), true},
		{"429 status", responseError(429, errors.New("slow")), false},
		{"503 status", responseError(503, errors.New("down")), false},
		{"network", errors.New("dial tcp: connection refused"), false},
		{"cancelled", context.Canceled, false},
	}
	for _, tt := range tests {
		err := awserr.Classify("op", tt.err)
		if notify.IsPermanent(err) != tt.permanent || !errors.Is(err, tt.err) {
			t.Errorf("%s: %v permanent=%v, want %v", tt.name, err, notify.IsPermanent(err), tt.permanent)
		}
	}
	if awserr.Classify("op", nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}
