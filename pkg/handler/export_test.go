package handler

// EntryOfEnvironment is the handler Start runs, with a cold-start flag of
// its own: a fresh execution environment, for tests that count cold starts
// while other tests of the binary have taken the process's flag.
func EntryOfEnvironment[In, Out any](f Func[In, Out]) Func[In, Out] {
	return Chain(f, withInvocation[In, Out](&coldStart{}))
}
