package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrHelp is returned by Load when the arguments ask for help; print
// Usage(cmd) and exit 0.
var ErrHelp = flag.ErrHelp

// UsageError is a command line that does not parse (an unknown flag, a
// flag without its value): reported once, with a hint to --help.
type UsageError struct {
	Cmd string
	Err error
}

func (e *UsageError) Error() string {
	return fmt.Sprintf("%v\nRun 'ecrd %s --help' for its flags.", e.Err, e.Cmd)
}

// Load reads the settings of subcommand cmd ("serve", "gc", "health" or
// "migrate"): its flags from args, its environment variables through
// getenv, and the config file named by --config or ECRD_CONFIG. Flags win
// over environment variables, variables over the file, the file over
// Default().
// It then validates, returning every problem at once, each naming where
// its value came from.
func Load(cmd string, args []string, getenv func(string) string) (Config, error) {
	bit, ok := commands[cmd]
	if !ok {
		return Config{}, fmt.Errorf("config: unknown command %q", cmd)
	}
	c := Default()
	c.origins = map[string]string{}

	// Flags are parsed first, to find --config, but applied last.
	fs := flag.NewFlagSet("ecrd "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	given := map[string]string{}
	for _, s := range settings {
		if s.cmds&bit != 0 {
			fs.Var(&rawFlag{name: s.name, bool: s.kind == kindBool, given: given}, s.name, s.help)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, ErrHelp
		}
		return c, &UsageError{Cmd: cmd, Err: err}
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, &UsageError{Cmd: cmd, Err: fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))})
	}

	file, fileOrigin := given[configSetting], "--config"
	if file == "" {
		file, fileOrigin = getenv("ECRD_CONFIG"), "ECRD_CONFIG"
	}
	if file != "" {
		errs = append(errs, c.applyFile(file, fileOrigin, bit)...)
	}
	for _, s := range settings {
		if s.cmds&bit == 0 || s.name == configSetting {
			continue
		}
		if v := getenv(s.env); v != "" {
			errs = append(errs, c.apply(s, v, s.env))
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != configSetting {
			s, _ := lookup(f.Name)
			errs = append(errs, c.apply(s, given[f.Name], "--"+f.Name))
		}
	})

	if bit&(cmdServe|cmdGC|cmdMigrate) != 0 {
		// The S3 keys are secrets: variables only, never flags or file
		// keys, which others may read.
		c.Store.S3.AccessKey, c.Store.S3.SecretKey = getenv("ECRD_S3_ACCESS_KEY"), getenv("ECRD_S3_SECRET_KEY")
	}
	if bit&cmdMigrate != 0 && c.Migrate.FromDataDir != "" {
		if abs, err := filepath.Abs(c.Migrate.FromDataDir); err == nil {
			c.Migrate.FromDataDir = abs
		}
	}
	if bit&(cmdServe|cmdGC) != 0 {
		if c.Store.DataDir == "" {
			// With no default, Validate says --data-dir is missing.
			c.Store.DataDir, _ = DefaultDataDir(getenv)
		}
		// Logged and used as an absolute path, so that it is plain which
		// registry a server serves whatever directory it started in.
		if c.Store.DataDir != "" {
			if abs, err := filepath.Abs(c.Store.DataDir); err == nil {
				c.Store.DataDir = abs
			}
		}
	}
	errs = append(errs, c.validate(bit))
	return c, errors.Join(errs...)
}

// apply sets s from v, recording origin; a value that does not parse is an
// error naming origin, and leaves the setting as it was.
func (c *Config) apply(s setting, v, origin string) error {
	if err := s.set(c, v); err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	c.origins[s.name] = origin
	return nil
}

// applyFile applies the settings of a TOML config file. Its keys are the
// flag names; a relative path in it is relative to the file's directory.
// Keys of settings cmd does not read are accepted and ignored, so that one
// file serves every subcommand; unknown keys are errors, since a misspelt
// key silently ignored is a setting that does not apply.
func (c *Config) applyFile(file, origin string, bit cmdSet) []error {
	var m map[string]any
	if _, err := toml.DecodeFile(file, &m); err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return []error{fmt.Errorf("%s %s: line %d: %s", origin, file, perr.Position.Line, perr.Message)}
		}
		return []error{fmt.Errorf("%s %s: %w", origin, file, err)}
	}
	dir := filepath.Dir(file)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	for _, k := range keys {
		where := file + ": " + k
		s, ok := lookup(k)
		if !ok || k == configSetting {
			errs = append(errs, fmt.Errorf("%s: unknown key (the keys are the flag names of 'ecrd serve --help', such as listen or data-dir)", where))
			continue
		}
		v, err := fileValue(s, m[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if s.cmds&bit == 0 {
			continue
		}
		if s.kind == kindPath && v != "" && !filepath.IsAbs(v) {
			v = filepath.Join(dir, v)
		}
		if err := c.apply(s, v, where); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// fileValue turns a TOML value into the text a flag would be given:
// strings for text, durations and sizes, true/false for switches, and
// integers for counts and sizes.
func fileValue(s setting, v any) (string, error) {
	switch v := v.(type) {
	case string:
		if s.kind == kindBool || s.kind == kindInt {
			return "", fmt.Errorf("%q: want a bare %s, not a string", v, map[kind]string{kindBool: "true or false", kindInt: "number"}[s.kind])
		}
		return v, nil
	case bool:
		if s.kind != kindBool {
			return "", fmt.Errorf("%v: want a string", v)
		}
		return strconv.FormatBool(v), nil
	case int64:
		switch s.kind {
		case kindInt, kindSize:
			return strconv.FormatInt(v, 10), nil
		case kindDuration:
			return "", fmt.Errorf("%d: want a string such as \"24h\"", v)
		}
		return "", fmt.Errorf("%d: want a string", v)
	}
	return "", fmt.Errorf("a %T: want a string, number or true/false", v)
}

// rawFlag records the text a flag was given; Load applies it after the
// config file and the environment, so that flags win.
type rawFlag struct {
	name  string
	bool  bool
	given map[string]string
}

func (f *rawFlag) String() string   { return "" }
func (f *rawFlag) IsBoolFlag() bool { return f.bool }
func (f *rawFlag) Set(v string) error {
	f.given[f.name] = v
	return nil
}

// DefaultDataDir is where the data lives when no --data-dir is given: the
// user's data directory ($XDG_DATA_HOME/ecrd, else ~/.local/share/ecrd),
// the same wherever ecrd is started. (Before, it was ./ecrd-data, so a
// server started from another directory served an empty registry.)
func DefaultDataDir(getenv func(string) string) (string, error) {
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ecrd"), nil
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "ecrd"), nil
	}
	return "", errors.New("no default without HOME or XDG_DATA_HOME: give --data-dir DIR")
}

// Usage writes subcommand cmd's flags, each with its environment
// variable and default.
func Usage(w io.Writer, cmd string) {
	bit := commands[cmd]
	d := Default()
	fmt.Fprintf(w, "Usage: ecrd %s [flags]\n\n%s\n\nEvery flag can also be given by its environment variable or, in a TOML file\nnamed by --config, by a key of the same name (data-dir = \"/var/lib/ecrd\");\nflags win over variables, variables over the file.\n\nFlags:\n", cmd, summaries[cmd])
	for _, s := range settings {
		if s.cmds&bit == 0 {
			continue
		}
		head := "  --" + s.name
		if s.arg != "" {
			head += " " + s.arg
		}
		def := ""
		if s.field != nil && s.name != "data-dir" {
			if v := s.format(&d); v != "" && v != "false" {
				def = "default " + v + "; "
			}
		}
		fmt.Fprintf(w, "%s\n      %s (%senv %s)\n", head, s.help, def, s.env)
	}
}

// summaries say what each subcommand does, atop its usage.
var summaries = map[string]string{
	"serve":     "Runs the registry: the ECR and ECR Public APIs and /v2/ on --listen, ECR Public's\nanonymous pulls on --public-listen.",
	"lifecycle": "Applies every repository's lifecycle policy once (ecrd lifecycle run) and exits;\nsafe while a server runs on the same stores. With --at, as of a later time.",
	"gc":        "Collects unused layers and blobs of the data dir once and exits; safe while a\nserver runs on the same data dir.",
	"migrate":   "Copies the embedded registry in --from-data-dir (SQLite metadata, blob files) into\nthe scale-out stores: the PostgreSQL database --to-postgres and the bucket\n--s3-bucket. Stop the server first. Interrupted, it resumes when run again.",
	"health":    "Asks the server on --listen for /healthz (over HTTPS with --tls-cert) and exits\n0 when it answers ok, 1 otherwise: a container's health check.",
}

// FormerDataDir returns ./ecrd-data (absolute) when c's data dir is the
// default and ./ecrd-data holds a registry: the default of earlier
// versions, which a user upgrading may mean to keep serving.
func (c Config) FormerDataDir() (string, bool) {
	if _, set := c.origins["data-dir"]; set {
		return "", false
	}
	abs, err := filepath.Abs("ecrd-data")
	if err != nil || abs == c.Store.DataDir {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(abs, "metadata.db")); err != nil {
		return "", false
	}
	return abs, true
}
