// Package awserr classifies AWS SDK errors for the notify sinks that call
// AWS (sns, ses): throttling and server faults are retryable, client faults
// (bad parameters, missing topics, denied access) permanent.
package awserr
