"""Working-group sessions: the store (findings, votes, action sheets, stakeholders), identities and roles."""
