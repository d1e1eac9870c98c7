// Package ses sends alerts as email through Amazon SES v2 (SendEmail with
// simple content): the same subject, plain text and HTML bodies as the SMTP
// sink (email.Render).
//
// It is the only notify package importing the SES client.
package ses
