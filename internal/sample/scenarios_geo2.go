package sample

// travel writes the records for impossible travel between console
// sign-ins. The sample GeoIP database (geoip/internal/gentestdb) places the
// office (203.0.113.0/25) in New York, the VPN (198.51.100.0/25) in
// Ashburn, 192.0.2.0/24 in Amsterdam and 203.0.113.128/25 in São Paulo.
//
// ivan signs in at the office on day 1; two and a half hours later his
// password is used from Amsterdam, 5,863 km away (impossible). On day 2 he
// moves from the office to the VPN a quarter of an hour later (350 km:
// too near to judge). On day 3 he flies to São Paulo and signs in there in
// the evening (a possible 640 km/h); a failed sign-in from Amsterdam
// minutes later is left to console-signin-failed.
func (s *scenarios) travel() {
	g, w := s.g, s.g.w
	ivan := w.user(AccountMain, "ivan")
	login := func(day, hh, mm int, ip string, ok bool, tags ...string) {
		t := s.at(day, hh, mm, 31)
		a := g.session(ivan, t, ip, uaChromeMac, true, true)
		s.put(g.consoleLogin(t, a, ok, "Yes", ""), ShapeTrail, tags...)
	}
	// His first sign-ins: learning for the first-seen rules.
	login(1, 8, 10, officeIPs[2], true, "negative:signin-impossible-travel", "negative:signin-new-country")
	login(1, 10, 40, "192.0.2.77", true, "signin-impossible-travel", "negative:signin-new-country")
	login(2, 8, 5, officeIPs[2], true, "negative:signin-impossible-travel")
	login(2, 8, 20, vpnIPs[2], true, "negative:signin-impossible-travel", "negative:signin-new-country")
	login(3, 7, 30, officeIPs[2], true, "negative:signin-impossible-travel")
	login(3, 19, 30, "203.0.113.140", true, "negative:signin-impossible-travel", "negative:signin-new-country")
	login(3, 19, 42, "192.0.2.78", false, "console-signin-failed", "negative:signin-impossible-travel")
}
