package reject_overwrite

// Hand-written, whatever its name says: rpcgen must not overwrite it.
func handWritten() {}
