// Package storetest is the conformance suite every [iamwatch.Store] must
// pass, in the manner of testing/slogtest: a store's own tests call
//
//	storetest.Run(t, func(t *testing.T) iamwatch.Store { … a new, empty store … })
//
// Run uses only the iamwatch.Store interface. Each subtest opens its own
// empty store and closes it when done.
//
// What the suite assumes of times: event times (Event.Time, Alert.Time,
// Hit.Time) are whole seconds, as CloudTrail writes them, so a store may keep
// no more; wall-clock times (Delivery.NextTry, Delivery.SentAt, Checkpoint
// times) come back equal to what was stored, to the millisecond at least.
// Times come back in UTC.
package storetest
