// Package webhook posts alerts as JSON to any HTTP endpoint, signed so the
// receiver can check they come from iamwatch:
//
//	X-Iamwatch-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the secret>
//	X-Iamwatch-Timestamp: <unix seconds when sent; also "sent_at" in the body>
//	X-Iamwatch-Delivery:  <stable ID of the alerts: the same on a resend>
//
// The body's sent_at is covered by the signature, so a receiver rejecting
// old timestamps also rejects replays. Custom headers (values may be secret
// references) are added to every request.
package webhook
