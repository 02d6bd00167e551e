package main

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// repositoryStage interprets the repository's Dockerfile.
func repositoryStage(t *testing.T, p platform, buildArgs map[string]string) *stage {
	t.Helper()
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	instrs, err := parseDockerfile(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := finalStage(instrs, p, buildArgs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The image the repository's Dockerfile describes, as the README and the
// deploy files (deploy/compose.yaml, deploy/kubernetes) rely on it.
func TestRepositoryDockerfile(t *testing.T) {
	s := repositoryStage(t, platform{"linux", "arm64"}, map[string]string{"VERSION": "v1.2.3"})
	want := v1.Config{
		Entrypoint: []string{"/usr/local/bin/ecrd"},
		Cmd:        []string{"serve"},
		User:       "65532:65532",
		WorkingDir: "/var/lib/ecrd",
		Env: []string{
			"PATH=" + defaultPath,
			"ECRD_DATA_DIR=/var/lib/ecrd",
			"ECRD_LISTEN=0.0.0.0:5000",
		},
		ExposedPorts: map[string]struct{}{"5000/tcp": {}, "5001/tcp": {}},
		Volumes:      map[string]struct{}{"/var/lib/ecrd": {}},
		Healthcheck: &v1.HealthConfig{
			Test:     []string{"CMD", "/usr/local/bin/ecrd", "health"},
			Interval: 30 * time.Second, Timeout: 5 * time.Second, StartPeriod: 10 * time.Second, Retries: 3,
		},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "ecrd",
			"org.opencontainers.image.description": "An Amazon ECR-compatible container registry in one Go binary",
			"org.opencontainers.image.licenses":    "Apache-2.0",
			"org.opencontainers.image.version":     "v1.2.3",
		},
	}
	if !reflect.DeepEqual(s.config, want) {
		got, _ := json.MarshalIndent(s.config, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("config\n%s\nwant\n%s", got, exp)
	}
	var copies []copySpec
	for _, st := range s.steps {
		if st.copy != nil {
			copies = append(copies, *st.copy)
		}
	}
	wantCopies := []copySpec{
		{from: "build", srcs: []string{"/out/ecrd"}, dst: "/usr/local/bin/ecrd", mode: 0o755, hasMode: true},
		{from: "build", srcs: []string{"/out/data"}, dst: "/var/lib/ecrd", uid: 65532, gid: 65532, mode: 0o750, hasMode: true},
	}
	if !reflect.DeepEqual(copies, wantCopies) {
		t.Errorf("copies %+v\nwant   %+v", copies, wantCopies)
	}
}

func stageOf(t *testing.T, df string, buildArgs map[string]string) (*stage, error) {
	t.Helper()
	instrs, err := parseDockerfile(strings.NewReader(df))
	if err != nil {
		t.Fatal(err)
	}
	return finalStage(instrs, platform{"linux", "amd64"}, buildArgs)
}

func TestFinalStageRefuses(t *testing.T) {
	const build = "FROM golang AS build\n"
	for _, tc := range []struct{ name, df, err string }{
		{"Run", build + "FROM scratch\nRUN true\n", "RUN: not supported"},
		{"Add", build + "FROM scratch\nADD x /x\n", "ADD: not supported"},
		{"BaseImage", build + "FROM alpine\n", "must start FROM scratch"},
		{"NoFrom", "ENV A=1\n", "no FROM"},
		{"BuildContext", build + "FROM scratch\nCOPY x /x\n", "only COPY --from"},
		{"UnknownStage", build + "FROM scratch\nCOPY --from=nope /x /x\n", "names no earlier stage"},
		{"ItsOwnStage", build + "FROM scratch AS final\nCOPY --from=final /x /x\n", "names no earlier stage"},
		{"UserName", build + "FROM scratch\nCOPY --from=build --chown=ecrd /x /x\n", "numeric UID"},
		{"Setuid", build + "FROM scratch\nCOPY --from=build --chmod=4755 /x /x\n", "setuid"},
		{"Wildcard", build + "FROM scratch\nCOPY --from=build /out/* /x/\n", "wildcards"},
		{"SeveralSourcesToFile", build + "FROM scratch\nCOPY --from=build /a /b /x\n", "ending in /"},
		{"LinkFlag", build + "FROM scratch\nCOPY --from=build --link=true /a /x\n", "--link"},
		{"UndefinedVariable", build + "FROM scratch\nENV A=$NOPE\n", "no ARG or ENV"},
		{"ArgOnlyInAnotherStage", "ARG V=1\n" + build + "ARG W=2\nFROM scratch\nLABEL v=$W\n", "$W"},
		{"StartInterval", build + "FROM scratch\nHEALTHCHECK --start-interval=1s CMD [\"x\"]\n", "--start-interval"},
		{"BadPort", build + "FROM scratch\nEXPOSE 5000-5001\n", "PORT"},
		{"FlagOnEnv", build + "FROM scratch\nENV --x=1 A=1\n", "unknown flag --x"},
		{"Platform", build + "FROM --platform=linux/amd64 scratch\n", "--platform=linux/amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stageOf(t, tc.df, nil)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one saying %q", err, tc.err)
			}
		})
	}
}

func TestFinalStageArgs(t *testing.T) {
	df := "ARG BASE=global\nFROM golang AS build\nFROM --platform=$TARGETPLATFORM scratch\n" +
		"ARG BASE\nARG TARGETARCH\nARG V=default\nARG W=$V-w\n" +
		"ENV base=$BASE arch=${TARGETARCH} v=$V w=$W\nENV v=env\nLABEL v=$v\n"
	for _, tc := range []struct {
		name string
		args map[string]string
		env  []string
		v    string
	}{
		{"Defaults", nil, []string{"base=global", "arch=amd64", "v=env", "w=default-w"}, "env"},
		{"BuildArgs", map[string]string{"V": "given", "BASE": "b"}, []string{"base=b", "arch=amd64", "v=env", "w=given-w"}, "env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := stageOf(t, df, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]string{"PATH=" + defaultPath}, tc.env...); !reflect.DeepEqual(s.config.Env, want) {
				t.Errorf("Env %q, want %q", s.config.Env, want)
			}
			if s.config.Labels["v"] != tc.v {
				t.Errorf("label v = %q, want %q (ENV wins over ARG)", s.config.Labels["v"], tc.v)
			}
		})
	}
}

// ENTRYPOINT resets an inherited CMD, not one set earlier in the stage; the
// shell forms run /bin/sh, as Docker's do.
func TestFinalStageCommands(t *testing.T) {
	s, err := stageOf(t, "FROM scratch\nCMD [\"serve\"]\nENTRYPOINT /bin/app --flag\nWORKDIR /a\nWORKDIR b\n"+
		"HEALTHCHECK CMD curl -f localhost\nVOLUME /v1 /v2\nEXPOSE 53/udp\nSTOPSIGNAL SIGINT\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.config
	if !reflect.DeepEqual(c.Cmd, []string{"serve"}) || !reflect.DeepEqual(c.Entrypoint, []string{"/bin/sh", "-c", "/bin/app --flag"}) {
		t.Errorf("Cmd %q Entrypoint %q", c.Cmd, c.Entrypoint)
	}
	if c.WorkingDir != "/a/b" || c.StopSignal != "SIGINT" {
		t.Errorf("WorkingDir %q StopSignal %q", c.WorkingDir, c.StopSignal)
	}
	if !reflect.DeepEqual(c.Healthcheck, &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -f localhost"}}) {
		t.Errorf("Healthcheck %+v", c.Healthcheck)
	}
	if len(c.Volumes) != 2 || len(c.ExposedPorts) != 1 {
		t.Errorf("Volumes %v ExposedPorts %v", c.Volumes, c.ExposedPorts)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok {
		t.Errorf("ExposedPorts %v, want 53/udp", c.ExposedPorts)
	}
}
