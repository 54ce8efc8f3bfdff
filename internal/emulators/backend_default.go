package emulators

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// The default backend's moto server, pinned with its whole dependency tree
// (files/requirements-moto.txt). Python 3.10 is moto 5.2's floor.
var motoVenv = venvSpec{name: "venv-moto-5.2.1", what: "moto server 5.2.1", requirements: requirementsMoto, minPython: 10}

// defaultBackend is DynamoDB Local for DynamoDB and moto server for SQS and
// EventBridge.
type defaultBackend struct{}

func (defaultBackend) install(ctx context.Context, c Config) error {
	if _, err := installDynamoDBLocal(ctx, c); err != nil {
		return err
	}
	_, err := installVenv(ctx, c, motoVenv)
	return err
}

func (defaultBackend) start(ctx context.Context, c Config, st *State) error {
	ddb := filepath.Join(c.CacheDir, ddbDir)
	venv := filepath.Join(c.CacheDir, motoVenv.dir())
	ddbPort, err := freePort()
	if err != nil {
		return err
	}
	motoPort, err := freePort()
	if err != nil {
		return err
	}
	java, err := needTool("java", "Java 17+ is required for DynamoDB Local")
	if err != nil {
		return err
	}
	if c.DynamoDBDir != "" {
		if err := os.MkdirAll(c.DynamoDBDir, 0o755); err != nil {
			return err
		}
	}
	ddbLog := filepath.Join(st.Dir, "dynamodb.log")
	ddbProc, err := startProc("dynamodb", exec.Command(java, dynamoDBLocalArgs(ddb, ddbPort, c.DynamoDBDir)...), ddbLog)
	if err != nil {
		return err
	}
	st.Procs = append(st.Procs, ddbProc)
	motoLog := filepath.Join(st.Dir, "moto.log")
	moto := exec.Command(filepath.Join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", strconv.Itoa(motoPort))
	motoProc, err := startProc("moto", moto, motoLog)
	if err != nil {
		return err
	}
	st.Procs = append(st.Procs, motoProc)
	ddbURL, motoURL := loopbackURL(ddbPort), loopbackURL(motoPort)
	if err := waitReady(ctx, "DynamoDB Local", ddbProc, ddbLog, c.ReadyTimeout, answersHTTP(ddbURL+"/")); err != nil {
		return err
	}
	if err := waitReady(ctx, "moto server", motoProc, motoLog, c.ReadyTimeout, answersHTTP(motoURL+"/moto-api/")); err != nil {
		return err
	}
	st.Env = append([]Var{
		{"AWS_ENDPOINT_URL_DYNAMODB", ddbURL},
		// DynamoDB Local serves a table's stream on its own port.
		{"AWS_ENDPOINT_URL_DYNAMODB_STREAMS", ddbURL},
		{"AWS_ENDPOINT_URL_SQS", motoURL},
		{"AWS_ENDPOINT_URL_EVENTBRIDGE", motoURL},
		{"AWS_ENDPOINT_URL_KINESIS", motoURL},
		{"LATCH_MOTO_URL", motoURL},
	}, commonEnv(Default)...)
	return nil
}

// dynamoDBLocalArgs are java's arguments for DynamoDB Local on
// 127.0.0.1:port, through the BindLoopback launcher (DynamoDB Local itself
// has no host option and would listen on every interface): in memory, or
// with its tables in dataDir when that is set.
func dynamoDBLocalArgs(dir string, port int, dataDir string) []string {
	lib := filepath.Join(dir, "DynamoDBLocal_lib")
	cp := strings.Join([]string{filepath.Join(dir, "DynamoDBLocal.jar"), filepath.Join(lib, "*"), filepath.Join(dir, "launcher")}, string(os.PathListSeparator))
	store := []string{"-inMemory"}
	if dataDir != "" {
		store = []string{"-dbPath", dataDir}
	}
	return append([]string{"-Xmx1g", "-Djava.library.path=" + lib, "-cp", cp, "BindLoopback"},
		append(store, "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port))...)
}
