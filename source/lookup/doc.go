// Package lookup polls CloudTrail's LookupEvents API: IAM and console
// sign-in events from us-east-1, STS events from every configured region and
// IAM Identity Center events from its region, in one or several accounts
// (roles assumed with an external ID).
//
// Each (account, region, event source) is a [Stream] with its own
// checkpoint, keyed lookup/ACCOUNT/REGION/SOURCE. The first poll backfills
// Options.Backfill (at most 90 days, all LookupEvents keeps); afterwards a
// stream polls from its checkpoint less Options.Overlap to now −
// Options.Delay, because CloudTrail makes events visible to LookupEvents up to
// about five minutes late. Windows are half-overlapping on purpose: the
// store ignores an event it already has, so the overlap never duplicates,
// and the checkpoint only moves to the end of a window after every page of
// it is stored, so a crash or a failed page never loses one.
//
// Calls are paced under LookupEvents' limit of 2 requests a second per
// account and region; throttling and transient failures back off
// exponentially with jitter. The clock is injected (Options.Now); the
// source imports the CloudTrail and STS clients and nothing else does.
package lookup
