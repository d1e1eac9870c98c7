package sample

// baselines writes the records for behaviour against each identity's own history (GeoIP, first-seen).
func (s *scenarios) baselines() {}
