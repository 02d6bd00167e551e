// Package buildinfo says which ecrd this is: the version, commit and Go
// version the binary was built from, read from what the go command stamps
// into it (module version, VCS revision), so that `ecrd version`, the
// start-up log and the ecrd_build_info metric agree.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info describes a build.
type Info struct {
	// Version is the module version: a release tag (v1.2.3) when installed
	// with `go install github.com/ecrd/ecrd/cmd/ecrd@v1.2.3`, a
	// pseudo-version from the VCS when built in a clone, or "(devel)".
	Version string
	// Revision is the VCS commit, when the build stamped one; Modified
	// says the tree had uncommitted changes; Time is the commit's time.
	Revision string
	Modified bool
	Time     string
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Version and Revision, when set at link time (-ldflags "-X
// github.com/ecrd/ecrd/internal/buildinfo.Version=… -X ….Revision=…"),
// override the module version and the VCS commit: for builds without the
// VCS, such as the container image's (its build context has no .git).
var Version, Revision string

// Read returns the running binary's build information.
func Read() Info {
	in := Info{Version: "(devel)", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			in.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Revision = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			case "vcs.time":
				in.Time = s.Value
			}
		}
	}
	if Version != "" {
		in.Version = Version
	}
	if Revision != "" {
		in.Revision = Revision
	}
	return in
}

// String is the one line `ecrd version` prints.
func (in Info) String() string {
	s := "ecrd " + in.Version
	if in.Revision != "" {
		s += " commit " + in.Revision
		if in.Modified {
			s += " (modified)"
		}
		if in.Time != "" {
			s += " " + in.Time
		}
	} else {
		s += " (no commit recorded: built without VCS stamping)"
	}
	return s + fmt.Sprintf(" %s %s/%s", in.GoVersion, runtime.GOOS, runtime.GOARCH)
}
