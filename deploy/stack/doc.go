// Package stack deploys the iamwatch CloudFormation stack: it uploads the
// function package and the template to an artifact bucket, creates or
// updates the stack through a change set, waits, and returns the outputs;
// it deletes the stack; it reads the functions' logs. Only this package and
// the command import the CloudFormation, S3 and CloudWatch Logs clients for
// deployment.
package stack
