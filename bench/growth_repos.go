package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// repoEnv is the grown registry as the operations see it: n empty
// repositories, on a server of their own (the grown repository's images
// would blur what the number of repositories costs).
type repoEnv struct {
	t    *target
	it   iterations
	rnd  *rand.Rand
	n    int
	made int // repositories made by the operations
}

func fleetRepo(i int) string { return fmt.Sprintf("fleet/svc-%07d", i) }

// repoOps are the rows of the registry table, in the order measured.
var repoOps = []growthOp[*repoEnv]{
	{opInfo{"describe-repos-first", "DescribeRepositories, first page of 1000", "ms", false}, (*repoEnv).describeFirst},
	{opInfo{"describe-repos-deep", "DescribeRepositories, page of 1000 from the middle", "ms", false}, (*repoEnv).describeDeep},
	{opInfo{"describe-repos-name", "DescribeRepositories, 1 name", "ms", false}, (*repoEnv).describeName},
	{opInfo{"create-repo", "CreateRepository", "ms", false}, (*repoEnv).create},
	{opInfo{"delete-repo", "DeleteRepository, an empty repository", "ms", false}, (*repoEnv).delete},
	{opInfo{"repos-rss", "server RSS after the operations", "MiB", false}, func(e *repoEnv, _ context.Context) (figure, error) { return serverRSS(e.t) }},
	{opInfo{"repos-startup", "start-up over the data dir (exec to serving)", "ms", false}, func(e *repoEnv, _ context.Context) (figure, error) { return startup(e.t) }},
	{opInfo{"repos-rss-start", "server RSS just after start-up", "MiB", false}, func(e *repoEnv, _ context.Context) (figure, error) { return serverRSS(e.t) }},
}

// growRegistry grows the registry to each repository count with
// CreateRepository, seedWorkers at a time, and measures at each.
func growRegistry(ctx context.Context, o growthOptions) ([]growthPoint, error) {
	dir, err := os.MkdirTemp(o.work, "growth-repos-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	step("starting ecrd for the registry dimension")
	t, err := startTarget(o.bin, filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	defer t.stop()
	e := &repoEnv{t: t, it: o.iters, rnd: newRand()}
	// The registry dimension has no composition beyond its size.
	return growSteps(ctx, t, o.repos, "repositories", e, repoOps, o.filter, func(ctx context.Context, from, to int) (composition, error) {
		err := each(ctx, "repositories", from, to, seedWorkers, func(ctx context.Context, i int) error {
			_, err := t.api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(fleetRepo(i))})
			return err
		})
		e.n = to
		return composition{}, err
	})
}

func (e *repoEnv) describeFirst(ctx context.Context) (figure, error) {
	return e.describe(ctx, nil, min(1000, e.n))
}

func (e *repoEnv) describeDeep(ctx context.Context) (figure, error) {
	mid := e.n / 2
	token, err := tokenAt(mid, func(token *string, max int32) (*string, int, error) {
		out, err := e.t.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{NextToken: token, MaxResults: &max})
		if err != nil {
			return nil, 0, err
		}
		return out.NextToken, len(out.Repositories), nil
	})
	if err != nil {
		return figure{}, err
	}
	return e.describe(ctx, token, min(1000, e.n-mid))
}

// describe times one DescribeRepositories page of 1000 and wants want
// repositories on it.
func (e *repoEnv) describe(ctx context.Context, token *string, want int) (figure, error) {
	return latency(e.it.Page, nil, func(int) error {
		out, err := e.t.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{NextToken: token, MaxResults: aws.Int32(1000)})
		if err != nil {
			return err
		}
		if len(out.Repositories) != want {
			return fmt.Errorf("%d repositories on the page, want %d", len(out.Repositories), want)
		}
		return nil
	})
}

func (e *repoEnv) describeName(ctx context.Context) (figure, error) {
	var name string
	return latency(e.it.API, func(int) error { name = fleetRepo(e.rnd.IntN(e.n)); return nil }, func(int) error {
		out, err := e.t.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
		if err != nil {
			return err
		}
		if len(out.Repositories) != 1 || aws.ToString(out.Repositories[0].RepositoryName) != name {
			return fmt.Errorf("%d repositories described, want %s", len(out.Repositories), name)
		}
		return nil
	})
}

// create times CreateRepository; the repositories are deleted again
// afterwards, untimed, so that the count holds.
func (e *repoEnv) create(ctx context.Context) (figure, error) {
	var names []string
	f, err := latency(e.it.API, nil, func(int) error {
		e.made++
		name := fmt.Sprintf("fleet/new-%07d", e.made)
		out, err := e.t.api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
		if err != nil {
			return err
		}
		names = append(names, name)
		if got := aws.ToString(out.Repository.RepositoryName); got != name {
			return fmt.Errorf("CreateRepository answered for %q, want %q", got, name)
		}
		return nil
	})
	for _, name := range names {
		if _, derr := e.t.api.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(name)}); err == nil && derr != nil {
			err = fmt.Errorf("cleaning up: %w", derr)
		}
	}
	return f, err
}

// delete times DeleteRepository of a repository created just before,
// untimed.
func (e *repoEnv) delete(ctx context.Context) (figure, error) {
	var name string
	return latency(e.it.API, func(int) error {
		e.made++
		name = fmt.Sprintf("fleet/gone-%07d", e.made)
		_, err := e.t.api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
		return err
	}, func(int) error {
		out, err := e.t.api.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(name)})
		if err != nil {
			return err
		}
		if got := aws.ToString(out.Repository.RepositoryName); got != name {
			return fmt.Errorf("DeleteRepository answered for %q, want %q", got, name)
		}
		return nil
	})
}
