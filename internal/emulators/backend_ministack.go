package emulators

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// MiniStack 1.5.33 with aws-sam-translator 1.115.0 beside it (its
// CloudFormation transforms SAM templates with it), every file hash-checked
// (files/requirements-ministack.txt). It pins botocore exactly, hence a venv
// of its own.
var miniStackVenv = venvSpec{
	name: "venv-ministack-1.5.33", what: "MiniStack 1.5.33", requirements: requirementsMiniStack,
	minPython: 11, requireHashes: true,
}

// miniStackDir is MiniStack's scratch root in the state directory: its
// temporary files (function code, pid file) and the state and S3 data
// directories it would otherwise put under /tmp.
const miniStackDir = "ministack"

// miniStackBackend is MiniStack for every service, DynamoDB included: a
// template deployed to it (sam deploy) has its tables created by MiniStack's
// CloudFormation in MiniStack's own DynamoDB, and its functions, host
// processes MiniStack starts, must find them there. DynamoDB Local beside it
// would hold other tables than the deployed stack's.
type miniStackBackend struct{}

func (miniStackBackend) install(ctx context.Context, c Config) error {
	_, err := installVenv(ctx, c, miniStackVenv)
	return err
}

func (miniStackBackend) start(ctx context.Context, c Config, st *State) error {
	venv := filepath.Join(c.CacheDir, miniStackVenv.dir())
	root := filepath.Join(st.Dir, miniStackDir)
	// A fresh root per run: nothing of a previous run's functions or data.
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	tmp := filepath.Join(root, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	url := loopbackURL(port)
	env := append([]Var{
		{"AWS_ENDPOINT_URL", url},
		{"AWS_ENDPOINT_URL_DYNAMODB", url},
		{"AWS_ENDPOINT_URL_SQS", url},
		{"AWS_ENDPOINT_URL_EVENTBRIDGE", url},
		{"AWS_ENDPOINT_URL_SCHEDULER", url},
		{"LATCH_MINISTACK_URL", url},
	}, commonEnv(MiniStack)...)
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), "-m", "ministack")
	cmd.Dir = root
	// Not a variable of the caller's AWS settings (endpoints, profile,
	// real credentials) reaches it, nor through it the functions it runs.
	cmd.Env = append(withoutPrefix(os.Environ(), "AWS_"),
		"GATEWAY_PORT="+strconv.Itoa(port),
		"BIND_HOST=127.0.0.1",
		// Queue URLs and other URLs it hands out name this host, the one
		// it listens on, whatever Host header a request carried.
		"MINISTACK_HOST=127.0.0.1",
		"MINISTACK_REGION=us-east-1",
		// Listeners it would open on 0.0.0.0: the IoT MQTT one at start,
		// Transfer's SFTP one on a CreateServer.
		"IOT_MTLS_ENABLED=0",
		"SFTP_ENABLED=0",
		"SFTP_HOST=127.0.0.1",
		// Functions run as host processes, children of the emulator, even
		// where a Docker daemon is at hand.
		"LAMBDA_EXECUTOR=local",
		"PERSIST_STATE=0",
		"S3_PERSIST=0",
		"STATE_DIR="+filepath.Join(root, "state"),
		"S3_DATA_DIR="+filepath.Join(root, "s3"),
		"TMPDIR="+tmp,
	)
	// Function processes inherit the emulator's environment: the endpoints
	// (itself), the region and the dummy credentials must be in it from the
	// start for a deployed function to reach the stack.
	for _, v := range env {
		cmd.Env = append(cmd.Env, v.Name+"="+v.Value)
	}
	logPath := filepath.Join(st.Dir, "ministack.log")
	p, err := startProc("ministack", cmd, logPath)
	if err != nil {
		return err
	}
	st.Procs = append(st.Procs, p)
	if err := waitReady(ctx, "MiniStack", p, logPath, c.ReadyTimeout, answersOK(url+"/_ministack/ready")); err != nil {
		return err
	}
	st.Env = env
	return nil
}

// withoutPrefix drops the variables whose names start with prefix from
// env: an emulator's own clients must talk to itself, not to whatever the
// caller's shell points at.
func withoutPrefix(env []string, prefix string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}
