// Package pagerduty triggers PagerDuty incidents through the Events API v2.
// Each alert is one trigger event whose dedup_key is the alert's dedup key,
// so a repeated delivery (a retry, a restart) updates the same PagerDuty
// alert instead of opening another. Severities map to PagerDuty's: critical →
// critical, high → error, medium → warning, low and info → info.
package pagerduty
