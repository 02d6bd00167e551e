// Command modeltrim writes the trimmed awsJson service model that package
// awsjson loads, from the botocore model of the same service:
//
//	go run ./internal/api/awsjson/modeltrim -o model.json ecr/2015-09-21
//
// botocore is found through $BOTOCORE_DATA (its data directory) or the
// python3 on PATH. The output is deterministic, so regenerating from the
// same botocore version changes nothing.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/awsjson/botocore"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "modeltrim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("modeltrim", flag.ContinueOnError)
	out := fs.String("o", "", "output file (default: standard output)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: modeltrim [-o file] service/version")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want one service/version argument, e.g. ecr/2015-09-21")
	}
	dir, err := botocore.DataDir()
	if err != nil {
		return err
	}
	raw, err := botocore.ReadModel(dir, fs.Arg(0))
	if err != nil {
		return err
	}
	trimmed, err := awsjson.TrimModel(raw)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = os.Stdout.Write(trimmed)
		return err
	}
	return os.WriteFile(*out, trimmed, 0o644)
}
