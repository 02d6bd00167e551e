//go:build !unix

package instance

import (
	"errors"
	"os"
)

// Without flock every process is taken for alive: leases lapse only by
// their timeout.

func lockExclusive(*os.File) error { return nil }

func tryLock(*os.File) (bool, error) {
	return false, errors.New("instance: locks are not supported on this platform")
}
