package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// defaultPath is the PATH Docker's builder gives a Linux image whose base
// sets none, as scratch does.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// stage is what a Dockerfile's final stage makes: an image configuration
// and, in order, the instructions that made it, some of which copy files
// from another stage (a layer each).
type stage struct {
	config v1.Config
	steps  []step
}

// step is one instruction of the final stage.
type step struct {
	text string    // the instruction, for the image's history
	copy *copySpec // what it copies; nil if it only changes the configuration
}

// copySpec is a COPY --from=<stage>.
type copySpec struct {
	from string   // the stage copied from
	srcs []string // absolute paths in that stage
	dst  string   // absolute path in the image; a directory if it ends in "/"
	uid  int      // owner of what is copied (--chown; default root)
	gid  int
	mode fs.FileMode // permissions of what is copied (--chmod), if hasMode
	// hasMode says --chmod was given; otherwise the source's permissions are kept.
	hasMode bool
}

// platform is an image's target OS and architecture.
type platform struct{ os, arch string }

func (p platform) String() string { return p.os + "/" + p.arch }

// parsePlatform parses "os/arch"; variants (linux/arm/v7) are not supported.
func parsePlatform(s string) (platform, error) {
	os, arch, ok := strings.Cut(s, "/")
	if !ok || os == "" || arch == "" || strings.Contains(arch, "/") {
		return platform{}, fmt.Errorf("platform %q: want os/arch, such as linux/amd64", s)
	}
	return platform{os, arch}, nil
}

// finalStage interprets the last stage of a Dockerfile for one platform,
// with the given --build-arg values, as Docker's builder would. It refuses
// what it cannot do without running a container (RUN, ADD, a base image
// other than scratch, copies from the build context) rather than build an
// image the Dockerfile does not describe.
func finalStage(instrs []instruction, p platform, buildArgs map[string]string) (*stage, error) {
	first, last := -1, -1
	stages := map[string]bool{}
	globals := map[string]string{}
	for i, in := range instrs {
		switch {
		case in.cmd == "FROM":
			if first < 0 {
				first = i
			}
			last = i
			if words := strings.Fields(in.args); len(words) == 3 && strings.EqualFold(words[1], "AS") {
				stages[strings.ToLower(words[2])] = true
			}
		case in.cmd == "ARG" && first < 0:
			words, err := splitWords(in.args)
			if err != nil {
				return nil, in.errorf("%v", err)
			}
			for _, w := range words {
				name, def, _ := strings.Cut(w, "=")
				if globals[name], err = expand(def, lookupIn(globals)); err != nil {
					return nil, in.errorf("%v", err)
				}
			}
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("Dockerfile: no FROM")
	}
	from := instrs[last]
	if words := strings.Fields(from.args); len(words) == 3 {
		delete(stages, strings.ToLower(words[2])) // a stage cannot copy from itself
	}
	for _, f := range from.flags {
		if f.name != "platform" || f.value != "$TARGETPLATFORM" && f.value != "${TARGETPLATFORM}" {
			return nil, from.errorf("--%s=%s is not supported in the final stage", f.name, f.value)
		}
	}
	if words := strings.Fields(from.args); len(words) == 0 || words[0] != "scratch" {
		return nil, from.errorf("the final stage must start FROM scratch (imagebuild has no base images), not %q", from.args)
	}

	automatic := map[string]string{
		"TARGETPLATFORM": p.String(), "TARGETOS": p.os, "TARGETARCH": p.arch, "TARGETVARIANT": "",
	}
	s := &stage{config: v1.Config{Env: []string{"PATH=" + defaultPath}}}
	b := stageBuilder{s: s, stages: stages, args: map[string]string{}, workdir: "/"}
	for _, in := range instrs[last+1:] {
		if err := b.apply(in, buildArgs, globals, automatic); err != nil {
			return nil, err
		}
		s.steps = append(s.steps, b.step(in))
	}
	return s, nil
}

// stageBuilder holds the state of the final stage while its instructions
// are applied in turn.
type stageBuilder struct {
	s       *stage
	stages  map[string]bool   // the names of the earlier stages
	args    map[string]string // the ARGs declared so far and their values
	workdir string
	cmdSet  bool // CMD was given in this stage (ENTRYPOINT then keeps it)
	copy    *copySpec
}

// lookup finds a variable as Docker does: ENV first, then ARG.
func (b *stageBuilder) lookup(name string) (string, bool) {
	for i := len(b.s.config.Env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(b.s.config.Env[i], "="); k == name {
			return v, true
		}
	}
	v, ok := b.args[name]
	return v, ok
}

// lookupIn looks variables up in m.
func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

func (b *stageBuilder) step(in instruction) step {
	st := step{text: in.text, copy: b.copy}
	b.copy = nil
	return st
}

func (b *stageBuilder) apply(in instruction, buildArgs, globals, automatic map[string]string) error {
	if in.cmd != "COPY" && in.cmd != "HEALTHCHECK" && len(in.flags) > 0 {
		return in.errorf("unknown flag --%s", in.flags[0].name)
	}
	c := &b.s.config
	switch in.cmd {
	case "ARG":
		words, err := splitWords(in.args)
		if err != nil || len(words) == 0 {
			return in.errorf("want NAME[=default]")
		}
		for _, w := range words {
			name, def, hasDef := strings.Cut(w, "=")
			if hasDef {
				if def, err = expand(def, b.lookup); err != nil {
					return in.errorf("%v", err)
				}
			} else if g, ok := globals[name]; ok {
				def = g
			} else {
				def = automatic[name]
			}
			if v, ok := buildArgs[name]; ok {
				def = v
			}
			b.args[name] = def
		}
	case "ENV", "LABEL":
		pairs, err := keyValues(in.args, b.lookup)
		if err != nil {
			return in.errorf("%v", err)
		}
		for _, kv := range pairs {
			if in.cmd == "ENV" {
				c.Env = setEnv(c.Env, kv[0], kv[1])
				continue
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[kv[0]] = kv[1]
		}
	case "USER", "STOPSIGNAL":
		words, err := expandWords(in.args, b.lookup)
		if err != nil || len(words) != 1 {
			return in.errorf("want one word, not %q", in.args)
		}
		if in.cmd == "USER" {
			c.User = words[0]
		} else {
			c.StopSignal = words[0]
		}
	case "WORKDIR":
		words, err := expandWords(in.args, b.lookup)
		if err != nil || len(words) != 1 {
			return in.errorf("want one path, not %q", in.args)
		}
		if path.IsAbs(words[0]) {
			b.workdir = path.Clean(words[0])
		} else {
			b.workdir = path.Join(b.workdir, words[0])
		}
		c.WorkingDir = b.workdir
	case "EXPOSE":
		words, err := expandWords(in.args, b.lookup)
		if err != nil || len(words) == 0 {
			return in.errorf("want PORT[/PROTO]...")
		}
		for _, w := range words {
			port, proto, ok := strings.Cut(w, "/")
			if !ok {
				proto = "tcp"
			}
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || proto != "tcp" && proto != "udp" && proto != "sctp" {
				return in.errorf("%q is not PORT[/tcp|udp|sctp]", w)
			}
			if c.ExposedPorts == nil {
				c.ExposedPorts = map[string]struct{}{}
			}
			c.ExposedPorts[port+"/"+strings.ToLower(proto)] = struct{}{}
		}
	case "VOLUME":
		vols, ok := execForm(in.args)
		if !ok {
			var err error
			if vols, err = expandWords(in.args, b.lookup); err != nil {
				return in.errorf("%v", err)
			}
		}
		for _, v := range vols {
			if c.Volumes == nil {
				c.Volumes = map[string]struct{}{}
			}
			c.Volumes[v] = struct{}{}
		}
	case "ENTRYPOINT":
		c.Entrypoint = command(in.args)
		if !b.cmdSet {
			c.Cmd = nil
		}
	case "CMD":
		c.Cmd = command(in.args)
		b.cmdSet = true
	case "HEALTHCHECK":
		hc, err := healthcheck(in)
		if err != nil {
			return err
		}
		c.Healthcheck = hc
	case "COPY":
		cp, err := b.copySpec(in)
		if err != nil {
			return err
		}
		b.copy = cp
	default:
		return in.errorf("not supported in the final stage: imagebuild copies files from other stages and sets the configuration, and runs nothing")
	}
	return nil
}

// keyValues parses the arguments of ENV and LABEL: KEY=VALUE pairs, or the
// old ENV form "KEY value with spaces". Values are expanded with the
// variables as they were before the instruction.
func keyValues(args string, lookup func(string) (string, bool)) ([][2]string, error) {
	raw, err := splitWords(args)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("want KEY=VALUE...")
	}
	if !strings.Contains(raw[0], "=") {
		key := raw[0]
		value, err := expand(strings.TrimSpace(strings.TrimPrefix(args, key)), lookup)
		return [][2]string{{key, value}}, err
	}
	var out [][2]string
	for _, w := range raw {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		if k, err = expand(k, lookup); err != nil {
			return nil, err
		}
		if v, err = expand(v, lookup); err != nil {
			return nil, err
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// execForm parses the JSON array form of CMD, ENTRYPOINT, VOLUME and COPY.
func execForm(args string) ([]string, bool) {
	if !strings.HasPrefix(args, "[") {
		return nil, false
	}
	var v []string
	if json.Unmarshal([]byte(args), &v) != nil {
		return nil, false
	}
	return v, true
}

// command is CMD's and ENTRYPOINT's value: the exec form as given, the
// shell form run by /bin/sh -c (which a scratch image does not have).
func command(args string) []string {
	if v, ok := execForm(args); ok {
		return v
	}
	return []string{"/bin/sh", "-c", args}
}

func healthcheck(in instruction) (*v1.HealthConfig, error) {
	hc := &v1.HealthConfig{}
	for _, f := range in.flags {
		var err error
		switch f.name {
		case "interval":
			hc.Interval, err = time.ParseDuration(f.value)
		case "timeout":
			hc.Timeout, err = time.ParseDuration(f.value)
		case "start-period":
			hc.StartPeriod, err = time.ParseDuration(f.value)
		case "retries":
			hc.Retries, err = strconv.Atoi(f.value)
		default:
			return nil, in.errorf("unknown or unsupported flag --%s", f.name)
		}
		if err != nil {
			return nil, in.errorf("--%s=%s: %v", f.name, f.value, err)
		}
	}
	kind, rest, _ := strings.Cut(in.args, " ")
	switch strings.ToUpper(kind) {
	case "NONE":
		return &v1.HealthConfig{Test: []string{"NONE"}}, nil
	case "CMD":
		rest = strings.TrimSpace(rest)
		if v, ok := execForm(rest); ok {
			hc.Test = append([]string{"CMD"}, v...)
		} else {
			hc.Test = []string{"CMD-SHELL", rest}
		}
		return hc, nil
	}
	return nil, in.errorf("want NONE or CMD ...")
}

func (b *stageBuilder) copySpec(in instruction) (*copySpec, error) {
	cp := &copySpec{}
	for _, f := range in.flags {
		switch f.name {
		case "from":
			cp.from = strings.ToLower(f.value)
		case "chown":
			u, g, hasGroup := strings.Cut(f.value, ":")
			if !hasGroup {
				g = u
			}
			var err1, err2 error
			cp.uid, err1 = strconv.Atoi(u)
			cp.gid, err2 = strconv.Atoi(g)
			if err1 != nil || err2 != nil || cp.uid < 0 || cp.gid < 0 {
				return nil, in.errorf("--chown=%s: want numeric UID[:GID] (a scratch image has no user names)", f.value)
			}
		case "chmod":
			m, err := strconv.ParseUint(f.value, 8, 32)
			if err != nil || m > 0o777 {
				return nil, in.errorf("--chmod=%s: want octal permissions up to 0777 (no setuid, setgid or sticky bits)", f.value)
			}
			cp.mode, cp.hasMode = fs.FileMode(m), true
		default:
			return nil, in.errorf("unsupported flag --%s", f.name)
		}
	}
	if cp.from == "" {
		return nil, in.errorf("only COPY --from=<stage> is supported: imagebuild has no build context")
	}
	if !b.stages[cp.from] {
		return nil, in.errorf("--from=%s names no earlier stage (FROM … AS %s)", cp.from, cp.from)
	}
	words, ok := execForm(in.args)
	if !ok {
		var err error
		if words, err = expandWords(in.args, b.lookup); err != nil {
			return nil, in.errorf("%v", err)
		}
	}
	if len(words) < 2 {
		return nil, in.errorf("want SRC... DEST")
	}
	dst := words[len(words)-1]
	dir := strings.HasSuffix(dst, "/")
	if !path.IsAbs(dst) {
		dst = path.Join(b.workdir, dst)
	}
	cp.dst = path.Clean(dst)
	if dir && cp.dst != "/" {
		cp.dst += "/"
	}
	if len(words) > 2 && !strings.HasSuffix(cp.dst, "/") {
		return nil, in.errorf("with several sources the destination must be a directory ending in /")
	}
	for _, src := range words[:len(words)-1] {
		if strings.ContainsAny(src, "*?[") {
			return nil, in.errorf("source %q: wildcards are not supported", src)
		}
		cp.srcs = append(cp.srcs, path.Clean("/"+src))
	}
	return cp, nil
}
