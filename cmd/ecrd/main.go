// Command ecrd is an Amazon ECR–compatible container registry.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `ecrd: an Amazon ECR-compatible container registry

Usage:
  ecrd serve [flags]   run the registry (ecrd serve --help lists the flags)
  ecrd gc [flags]      collect unused layers and blobs once (same flags as serve)
  ecrd version         print the version
  ecrd --help          show this help
`

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

// run is main with its dependencies passed in; it returns the exit status:
// 0 on success, 2 for usage and start-up problems, 1 for failures while serving.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "--version":
		fmt.Fprintln(stdout, "ecrd", version)
		return 0
	case "serve":
		return serve(args[1:], getenv, stdout, stderr)
	case "gc":
		return gc(args[1:], getenv, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ecrd: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func serve(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	// Asked-for help goes to stdout; usage after a mistake goes to stderr.
	usageOut := stderr
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			usageOut = stdout
		}
	}
	cfg, err := config.Load(args, getenv, usageOut)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecrd: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := app.New(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "ecrd: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := a.Run(ctx); err != nil {
		log.Error("ecrd stopped with an error", "err", err)
		return 1
	}
	log.Info("ecrd stopped")
	return 0
}

// gc runs one garbage collection over the data dir and exits. It is safe
// while a server runs on the same data dir: both go through the store's
// transactions.
func gc(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	// It serves nothing: whatever listeners the flags name (a server may
	// hold them), it binds a throwaway port and no public listener.
	args = append(slices.Clip(args), "--listen", "127.0.0.1:0", "--public-listen", config.PublicOff, "--debug-listen=")
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecrd: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := app.New(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "ecrd: %v\n", err)
		return 2
	}
	defer a.Close()
	st, err := a.CollectGarbage(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "ecrd gc: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "removed %d unused layer records and %d blobs\n", st.Layers, st.Blobs)
	return 0
}
