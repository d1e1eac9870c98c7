// Package web is the console of `iamwatch serve`: server-rendered pages
// over the SQLite store (alerts and their triage, events, an overview),
// behind a password sign-in.
//
// Every page is rendered by html/template, so text from CloudTrail (user
// agents, session names, request parameters, summaries) is escaped in its
// context; no page carries inline script, and the Content-Security-Policy
// forbids it. Templates and the style sheet are embedded: the console loads
// nothing from the internet.
//
// Sessions are random 256-bit cookie values (HttpOnly, SameSite=Lax, Secure
// over TLS); the store keeps only their SHA-256. Every POST carries the
// session's CSRF token (or, before sign-in, a double-submit token).
package web
