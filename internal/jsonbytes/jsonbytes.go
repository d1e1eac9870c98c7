// Package jsonbytes holds the byte tests that iamwatch's two JSON scanners
// share: the CloudTrail decoder's parser and the detection engine's record
// scanner, which differ in what they accept but read strings alike.
package jsonbytes

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// SpecialIn8 reports whether one of the eight bytes of x is '"', '\\' or a
// control character: the bytes that end a plain run of a JSON string.
func SpecialIn8(x uint64) bool {
	quote := x ^ (ones * '"')
	bslash := x ^ (ones * '\\')
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	less := (x - ones*0x20) & ^x & highs
	return zero(quote)|zero(bslash)|less != 0
}

// IsHex4 reports whether the first four bytes of b are hexadecimal digits
// (a \u escape). b must hold at least four bytes.
func IsHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
