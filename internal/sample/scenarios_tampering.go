package sample

// tampering writes the records for logging and monitoring tampering, denied attempts at tampering and persistence calls, identity persistence.
func (s *scenarios) tampering() {}
