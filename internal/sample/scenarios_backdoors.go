package sample

// backdoors writes the records for sharing and resource-policy backdoors, remote execution and compute backdoors.
func (s *scenarios) backdoors() {}
