package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/ecrd/ecrd/internal/sdkhttp"
)

// seedWorkers is how many requests seeding and the concurrent
// operations keep in flight.
const seedWorkers = 16

// target is the one ecrd server of a dimension and its two clients: the
// /v2/ client and the ECR SDK. A restart replaces all three (the server
// comes back on new ports).
type target struct {
	bin, data string
	s         *server
	oci       *client
	api       *ecr.Client
}

func startTarget(bin, data string) (*target, error) {
	t := &target{bin: bin, data: data}
	if _, err := t.start(); err != nil {
		return nil, err
	}
	return t, nil
}

// start starts the server over the data dir and returns its start-up
// time: from exec until the server logs that it serves, which its log
// stamps to the millisecond (startEcrd polls /healthz every 50 ms, too
// coarse for a start-up of tens of milliseconds). Without that line it is
// the time until /healthz answered.
func (t *target) start() (time.Duration, error) {
	begin := time.Now()
	s, err := startEcrd(t.bin, t.data, stores{})
	wall := time.Since(begin)
	if err != nil {
		return 0, err
	}
	t.s = s
	t.oci = newClient(s.url, seedWorkers)
	t.api = ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  sdkhttp.Client(2 * seedWorkers)})
	if at, ok := servingAt(s.log); ok {
		return max(0, at.Sub(begin)), nil
	}
	return wall, nil
}

func (t *target) stop() error { return t.s.stop() }

// failed adds the end of the server's log to a run's error: what the
// server said is usually the explanation.
func (t *target) failed(err error) error {
	return fmt.Errorf("%w\necrd's log (%s) ends:\n%s", err, t.s.log, t.s.logTail())
}

// servingAt is the time of the "ecrd serving" line of a server's log.
func servingAt(log string) (time.Time, bool) {
	f, err := os.Open(log)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="ecrd serving"`) {
			continue
		}
		stamp, ok := strings.CutPrefix(strings.Fields(line)[0], "time=")
		if !ok {
			return time.Time{}, false
		}
		at, err := time.Parse(time.RFC3339Nano, stamp)
		return at, err == nil
	}
	return time.Time{}, false
}
