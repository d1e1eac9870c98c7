package sample

// baselines writes the records for behaviour against each identity's own
// history (GeoIP, first-seen rules). The sample GeoIP database
// (geoip/internal/gentestdb) places the office (203.0.113.0/25) in the US
// on AS64496, the VPN (198.51.100.0/25) on AS64497, mobile
// (198.51.100.128/25) on AS64501, and 192.0.2.0/24 on a hosting network
// in NL.
//
// hana's console history starts three weeks before day 1, so her 14-day
// learning period is over by the story: a mobile network seen within it is
// learnt; on day 1 she signs in through the VPN (a network new to her, in
// a country she knows); on day 2 her password is used from NL (a new
// country and network); on day 3 a failed sign-in from BR is left to
// console-signin-failed.
func (s *scenarios) baselines() {
	g, w := s.g, s.g.w
	hana := w.user(AccountMain, "hana")
	login := func(day, hh, mm int, ip string, ok bool, tags ...string) {
		t := s.at(day, hh, mm, 7)
		a := g.session(hana, t, ip, uaFirefoxWin, true, true)
		if day < 1 {
			tags = append(tags, "history") // before the three days: the learning period
		}
		s.put(g.consoleLogin(t, a, ok, "Yes", ""), ShapeTrail, tags...)
	}
	// Learning: the office, then mobile within 14 days of her first sign-in.
	login(-20, 8, 41, officeIPs[0], true, "negative:signin-new-country", "negative:signin-new-asn")
	login(-17, 19, 5, "198.51.100.150", true, "negative:signin-new-country", "negative:signin-new-asn")
	login(-3, 8, 37, officeIPs[1], true, "negative:signin-new-country", "negative:signin-new-asn")
	// Day 1: the VPN, a network she never used, in the US.
	login(1, 7, 52, vpnIPs[0], true, "signin-new-asn", "negative:signin-new-country")
	// Day 2: mobile again (learnt), then her password from a hosting network in NL.
	login(2, 12, 14, "198.51.100.161", true, "negative:signin-new-country", "negative:signin-new-asn")
	login(2, 23, 48, "192.0.2.151", true, "signin-new-country", "signin-new-asn")
	// Day 3: a failed sign-in from BR is no history of hers.
	login(3, 6, 2, "203.0.113.201", false, "console-signin-failed", "negative:signin-new-country", "negative:signin-new-asn")
}
