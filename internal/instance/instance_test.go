package instance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/instance"
)

// TestAlive/LiveProcess and DeadProcess run a second process (this test
// binary, re-executed) that registers in the directory: while it runs it
// is alive; once killed it is dead at once, and its file is gone.
func TestAlive(t *testing.T) {
	if dir := os.Getenv("INSTANCE_TEST_CHILD"); dir != "" {
		d, err := instance.Open(dir)
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString(d.Self() + "\n")
		select {} // hold the lock until killed
	}
	dir := t.TempDir()
	self, err := instance.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestAlive$")
	cmd.Env = append(os.Environ(), "INSTANCE_TEST_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 33)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	child := strings.TrimSpace(string(buf))

	t.Run("Self", func(t *testing.T) {
		if !self.Alive(self.Self()) {
			t.Fatal("this process is not alive to itself")
		}
		other, err := instance.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if !other.Alive(self.Self()) || !self.Alive(other.Self()) {
			t.Fatal("two live registrations of one process do not see each other alive")
		}
	})
	t.Run("LiveProcess", func(t *testing.T) {
		if !self.Alive(child) {
			t.Fatalf("the running child %s is not alive", child)
		}
	})
	t.Run("DeadProcess", func(t *testing.T) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if self.Alive(child) {
			t.Fatalf("the killed child %s is still alive", child)
		}
		if _, err := os.Stat(filepath.Join(dir, child+".lock")); !os.IsNotExist(err) {
			t.Fatalf("the dead child's file is still there: %v", err)
		}
	})
	t.Run("UnknownNames", func(t *testing.T) {
		if self.Alive("0123456789abcdef0123456789abcdef") {
			t.Error("a name with no file is alive")
		}
		// Names Open never gives (rows from before holders were recorded,
		// or anything odd) cannot be judged: alive, so the timeout decides.
		for _, id := range []string{"", "../../etc/passwd", "ZZ"} {
			if !self.Alive(id) {
				t.Errorf("Alive(%q) = false, want true", id)
			}
		}
	})
	t.Run("Close", func(t *testing.T) {
		d, err := instance.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		id := d.Self()
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if self.Alive(id) {
			t.Error("a closed registration is alive")
		}
	})
}
