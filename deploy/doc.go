// Package deploy holds the serverless stack: the CloudFormation template
// ([Template], template.yaml) and the regional forwarder ([Forwarder]),
// both embedded; the table of functions and the AWS adapters each one uses
// ([Functions]), which cmd/iamwatch-lambda wires from and the template
// tests check the IAM roles against; and the EventBridge rules derived from
// the rule catalog ([EventRules]). It imports no AWS SDK; deploying is
// deploy/stack's job.
package deploy
