// Package email renders alerts as email (multipart/alternative: the plain
// text message format and an HTML version built with html/template, which
// escapes every alert value) and sends it over SMTP with STARTTLS or
// implicit TLS and authentication.
//
// Render is shared with the SES sink (package ses), which sends the same
// subject and bodies through Amazon SES.
package email
