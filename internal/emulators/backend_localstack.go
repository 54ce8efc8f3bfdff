package emulators

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// LocalStack 4.14.0, its last open-source release, with the slim set of its
// own v4.14.0 lock (files/requirements-localstack.txt, every file
// hash-checked). On Python 3.11 every service fails with a SyntaxError.
var localStackVenv = venvSpec{
	name: "venv-localstack-4.14.0", what: "LocalStack 4.14.0", requirements: requirementsLocalStack,
	minPython: 12, requireHashes: true,
}

// LocalStackServices are the services the localstack backend starts: what
// the integration suite, latch local and the demo use.
var LocalStackServices = []string{"sqs", "events", "dynamodb", "scheduler"}

// LocalStackDeployServices are the services it adds with Config.Deploy, for
// sam deploy: CloudFormation, S3 for the artifact bucket, IAM and STS, and
// the template's Lambda, Logs, CloudWatch and SNS resources, and KMS (for
// the tables' server-side encryption). They load
// eagerly, like the rest, and make start-up several times slower, so only
// a deploy asks for them.
var LocalStackDeployServices = []string{"cloudformation", "s3", "iam", "sts", "lambda", "logs", "cloudwatch", "sns", "kms"}

// localStackRoot is LocalStack's FILESYSTEM_ROOT in the state directory.
const localStackRoot = "localstack"

// localStackBackend is LocalStack in host mode: a Python process, no
// Docker, DynamoDB through DynamoDB Local as LocalStack itself does.
type localStackBackend struct{}

func (localStackBackend) install(ctx context.Context, c Config) error {
	if _, err := installDynamoDBLocal(ctx, c); err != nil {
		return err
	}
	_, err := installVenv(ctx, c, localStackVenv)
	return err
}

func (localStackBackend) start(ctx context.Context, c Config, st *State) error {
	venv := filepath.Join(c.CacheDir, localStackVenv.dir())
	root := filepath.Join(st.Dir, localStackRoot)
	// A fresh filesystem root per run: LocalStack keeps its state and
	// DynamoDB Local's files under it, and two runs must not share them.
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	if err := seedLocalStack(c, root); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	url := loopbackURL(port)
	services := LocalStackServices
	if c.Deploy {
		services = append(append([]string(nil), services...), LocalStackDeployServices...)
	}
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), "-m", "localstack.runtime.main")
	cmd.Dir = root
	cmd.Env = append(withoutPrefix(os.Environ(), "AWS_ENDPOINT_URL"),
		// /.dockerenv (present on some CI machines) would make it believe
		// it runs in its own image and write to /var/lib, /etc, /usr/lib.
		"OVERRIDE_IN_DOCKER=0",
		"FILESYSTEM_ROOT="+root,
		"SERVICES="+strings.Join(services, ","),
		"GATEWAY_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		// The default server binds 0.0.0.0 whatever GATEWAY_LISTEN says.
		"GATEWAY_SERVER=hypercorn",
		// URLs it hands out (queue URLs) point at this gateway, moto's way:
		// http://127.0.0.1:PORT/ACCOUNT/NAME.
		"LOCALSTACK_HOST=127.0.0.1:"+strconv.Itoa(port),
		"SQS_ENDPOINT_STRATEGY=off",
		"DNS_ADDRESS=0", // else it binds :53
		"SKIP_SSL_CERT_DOWNLOAD=1",
		"DISABLE_EVENTS=1",
		// Services start before "Ready.", so ready means ready.
		"EAGER_SERVICE_LOADING=1",
		"DYNAMODB_IN_MEMORY=1",
		"PERSISTENCE=0",
	)
	logPath := filepath.Join(st.Dir, "localstack.log")
	p, err := startProc("localstack", cmd, logPath)
	if err != nil {
		return err
	}
	st.Procs = append(st.Procs, p)
	if err := waitReady(ctx, "LocalStack", p, logPath, c.ReadyTimeout, logHasLine(logPath, "Ready.")); err != nil {
		return err
	}
	st.Env = append([]Var{
		{"AWS_ENDPOINT_URL", url},
		{"AWS_ENDPOINT_URL_DYNAMODB", url},
		{"AWS_ENDPOINT_URL_SQS", url},
		{"AWS_ENDPOINT_URL_EVENTBRIDGE", url},
		{"AWS_ENDPOINT_URL_SCHEDULER", url},
		{"LATCH_LOCALSTACK_URL", url},
	}, commonEnv(LocalStack)...)
	return nil
}

// seedLocalStack lays out what LocalStack's DynamoDB installer checks for
// under <root>/var/lib/localstack/lib, so that nothing downloads at start:
// dynamodb-local/2 is the cached DynamoDB Local (jar and natives, from the
// npm bundle), and java/21/bin/java is a launcher that runs the host JDK
// through BindLoopback. Otherwise it would fetch a JRE, a zip and a Java
// agent from hosts an offline machine cannot reach.
func seedLocalStack(c Config, root string) error {
	java, err := needTool("java", "Java 17+ is required for DynamoDB Local")
	if err != nil {
		return err
	}
	if java, err = filepath.Abs(java); err != nil {
		return err
	}
	libs := filepath.Join(root, "var", "lib", "localstack", "lib")
	if err := os.MkdirAll(filepath.Join(libs, "dynamodb-local"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(c.CacheDir, ddbDir), filepath.Join(libs, "dynamodb-local", "2")); err != nil {
		return err
	}
	bin := filepath.Join(libs, "java", "21", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	shim := strings.ReplaceAll(javaShim, "@JAVA@", strings.ReplaceAll(java, "'", `'\''`))
	return os.WriteFile(filepath.Join(bin, "java"), []byte(shim), 0o755)
}
