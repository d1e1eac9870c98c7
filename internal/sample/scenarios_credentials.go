package sample

// credentialAccess writes the records for credential access and discovery bursts, attack sequences.
func (s *scenarios) credentialAccess() {}
