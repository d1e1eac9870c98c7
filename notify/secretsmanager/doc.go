// Package secretsmanager resolves `secretsmanager:name` secret references
// from AWS Secrets Manager. `secretsmanager:name#key` takes one key of a
// secret holding a JSON object. It is the only notify package importing the
// Secrets Manager client.
package secretsmanager
