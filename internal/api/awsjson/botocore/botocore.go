// Package botocore finds and reads the service models that ship with the
// botocore Python package, which are ecrd's wire specification. It is used
// by the modeltrim generator and by tests that check the committed trimmed
// models are current; the server never reads botocore.
package botocore

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNotFound means no botocore installation was found.
var ErrNotFound = errors.New("botocore: data directory not found")

// DataDir returns botocore's data directory: $BOTOCORE_DATA if set,
// otherwise the data directory of the botocore package that python3
// imports.
func DataDir() (string, error) {
	if dir := os.Getenv("BOTOCORE_DATA"); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return "", fmt.Errorf("%w: BOTOCORE_DATA: %v", ErrNotFound, err)
		}
		return dir, nil
	}
	out, err := exec.Command("python3", "-c",
		"import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		return "", fmt.Errorf("%w: python3 could not import botocore: %v", ErrNotFound, err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return dir, nil
}

// ReadModel returns the uncompressed service-2.json of service/version
// (e.g. "ecr/2015-09-21") under dataDir, which botocore ships gzipped or
// plain.
func ReadModel(dataDir, serviceVersion string) ([]byte, error) {
	base := filepath.Join(dataDir, filepath.FromSlash(serviceVersion), "service-2.json")
	if raw, err := os.ReadFile(base); err == nil {
		return raw, nil
	}
	f, err := os.Open(base + ".gz")
	if err != nil {
		return nil, fmt.Errorf("botocore: no model for %s: %w", serviceVersion, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("botocore: %s: %w", f.Name(), err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		return nil, fmt.Errorf("botocore: %s: %w", f.Name(), err)
	}
	return buf.Bytes(), nil
}
