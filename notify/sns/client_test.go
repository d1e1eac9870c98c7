package sns_test

import (
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/iamwatch/iamwatch/internal/testserver"
)

func newClient(g *testserver.GoAWS) *awssns.Client {
	return awssns.NewFromConfig(awsConfig(g.Endpoint, g.Region))
}
