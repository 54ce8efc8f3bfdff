package emulators

import _ "embed"

// The pinned data files, embedded so that a "go install"ed latch has them
// wherever it runs.
var (
	//go:embed files/BindLoopback.java
	bindLoopbackJava []byte
	//go:embed files/requirements-moto.txt
	requirementsMoto []byte
	//go:embed files/requirements-localstack.txt
	requirementsLocalStack []byte
	//go:embed files/requirements-ministack.txt
	requirementsMiniStack []byte
	//go:embed files/java-shim.sh
	javaShim string
)
