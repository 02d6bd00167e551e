// Command imagebuild builds ecrd's container image without a Docker daemon,
// from the final stage of the repository's Dockerfile, so that the
// Dockerfile stays the one description of the image.
//
// It makes what Docker's builder makes of that stage, which must start FROM
// scratch: a layer per COPY --from=<stage>, whose files it reads from a
// directory standing in for that stage, and the configuration its ARG, ENV,
// LABEL, USER, WORKDIR, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, ENTRYPOINT
// and CMD give, with a history entry per instruction. It runs nothing: any
// other instruction in the final stage is an error. scripts/build-image.sh
// fills the stage directory by running the build stage's `go build`.
//
// Usage:
//
//	imagebuild -stage build=DIR [-f Dockerfile] [-platform linux/amd64,linux/arm64]
//	           [-build-arg NAME=VALUE]... [-created UNIX-SECONDS] -o LAYOUT
//
// For platform os/arch, stage NAME's files are under DIR/os_arch. One
// platform makes an image, several an index of one image per platform,
// written as an OCI image layout; imagebuild prints its digest. Every file
// time and the image's creation time are -created (default
// $SOURCE_DATE_EPOCH, else 0), so the same inputs make the same digest.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

// keyValueFlag is a repeatable NAME=VALUE flag.
type keyValueFlag map[string]string

func (m keyValueFlag) String() string { return fmt.Sprint(map[string]string(m)) }

func (m keyValueFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want NAME=VALUE", s)
	}
	m[k] = v
	return nil
}

// run is main with its dependencies passed in; it returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("imagebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dockerfile := fs.String("f", "Dockerfile", "the Dockerfile")
	out := fs.String("o", "", "the OCI image layout to write (replaced if it is one)")
	platforms := fs.String("platform", "linux/"+runtime.GOARCH, "comma-separated os/arch list")
	created := fs.String("created", getenv("SOURCE_DATE_EPOCH"), "creation time of the image and its files, in seconds since 1970 (default $SOURCE_DATE_EPOCH, else 0)")
	stages, buildArgs := keyValueFlag{}, keyValueFlag{}
	fs.Var(stages, "stage", "NAME=DIR: stage NAME's files for platform os/arch are under DIR/os_arch (repeatable)")
	fs.Var(buildArgs, "build-arg", "NAME=VALUE: an ARG's value (repeatable)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "imagebuild: want -o LAYOUT and no arguments")
		return 2
	}
	digest, err := build(*dockerfile, *out, *platforms, *created, stages, buildArgs)
	if err != nil {
		fmt.Fprintf(stderr, "imagebuild: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, digest)
	return 0
}

func build(dockerfile, out, platformList, created string, stages, buildArgs map[string]string) (v1.Hash, error) {
	secs := int64(0)
	if created != "" {
		var err error
		if secs, err = strconv.ParseInt(created, 10, 64); err != nil {
			return v1.Hash{}, fmt.Errorf("-created %q: want seconds since 1970", created)
		}
	}
	when := time.Unix(secs, 0).UTC()
	var platforms []platform
	for _, s := range strings.Split(platformList, ",") {
		p, err := parsePlatform(strings.TrimSpace(s))
		if err != nil {
			return v1.Hash{}, err
		}
		platforms = append(platforms, p)
	}
	f, err := os.Open(dockerfile)
	if err != nil {
		return v1.Hash{}, err
	}
	instrs, err := parseDockerfile(f)
	f.Close()
	if err != nil {
		return v1.Hash{}, err
	}
	tmp, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(tmp)
	var imgs []v1.Image
	for _, p := range platforms {
		s, err := finalStage(instrs, p, buildArgs)
		if err != nil {
			return v1.Hash{}, err
		}
		dirs := map[string]string{}
		for name, dir := range stages {
			dirs[strings.ToLower(name)] = dir + "/" + p.os + "_" + p.arch
		}
		img, err := buildImage(s, p, dirs, when, tmp)
		if err != nil {
			return v1.Hash{}, fmt.Errorf("%s: %w", p, err)
		}
		imgs = append(imgs, img)
	}
	return writeLayout(out, platforms, imgs)
}
