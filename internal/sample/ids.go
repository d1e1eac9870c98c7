package sample

import (
	"math/rand/v2"
	"time"
)

// ids draws every identifier from one seeded source, so the same seed always
// yields the same event IDs, request IDs, access keys and object names.
type ids struct{ r *rand.Rand }

func newIDs(seed uint64, stream uint64) ids {
	return ids{rand.New(rand.NewPCG(seed, stream^0x9e3779b97f4a7c15))}
}

// uuid returns a version 4 UUID, as CloudTrail's eventID and requestID are.
func (g ids) uuid() string {
	var u [16]byte
	hi, lo := g.r.Uint64(), g.r.Uint64()
	for i := range 8 {
		u[i] = byte(hi >> (8 * i))
		u[8+i] = byte(lo >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(b)
}

func (g ids) from(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // IAM unique ids use base32-like upper case.
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerHex   = "0123456789abcdef"
)

// iamID returns an IAM unique id with the given prefix (AIDA, AROA, AKIA, ASIA, ANPA).
func (g ids) iamID(prefix string) string { return prefix + g.from(upperAlnum, 16) }

func (g ids) hex(n int) string { return g.from(lowerHex, n) }

// s3Suffix is the 16 random characters at the end of a trail log object name.
func (g ids) s3Suffix() string { return g.from(mixedAlnum, 16) }

// token returns a base64-looking blob, for session tokens and credential ids.
func (g ids) token(n int) string {
	return g.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", n)
}

func (g ids) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g ids) chance(p float64) bool { return g.r.Float64() < p }

// jitter returns a duration uniformly in [lo, hi).
func (g ids) jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

// iamDate formats t the way IAM response elements show dates: "Mar 10, 2025 9:14:02 AM".
func iamDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006 3:04:05 PM") }

// stsDate formats t the way STS credentials show expiration: "Mar 10, 2025, 9:14:02 AM".
func stsDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }

func ptr[T any](v T) *T { return &v }
