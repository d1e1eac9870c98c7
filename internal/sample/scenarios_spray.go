package sample

// spray writes a password spray at the main account's console on day 3:
// one address tries six of its real user names within eleven minutes, a
// password each, and every sign-in fails. No user fails more than once, so
// console-signin-failures stays quiet; console-signin-spray counts the
// names. It runs last and draws only on the scenarios' own streams, with
// users the scenarios before it made, so the records before it and the
// noise stay as they were.
func (s *scenarios) spray() {
	g, w := s.g, s.g.w
	for i, name := range []string{"alice", "bob", "carol", "dave", "temp-contractor", "svc-metrics"} {
		a := w.user(AccountMain, name)
		a.ip, a.ua = sprayIP, uaChromeMac
		tags := []string{"console-signin-failed", "negative:console-signin-failures"}
		if i >= 4 { // the fifth name reaches the threshold
			tags = append(tags, "console-signin-spray")
		}
		s.put(g.consoleLogin(s.at(3, 3, 15+2*i, 11+7*i), a, false, "No", ""), ShapeTrail, tags...)
	}
}
