package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// replicaGCGrace is the grace period of the collections the GC case runs:
// long beside one push (milliseconds here), short beside the case.
const replicaGCGrace = 2 * time.Second

// gcWhilePushing runs `ecrd gc` over and over on replica 0's data dir and
// stores while replicas 1 and 2 push images and delete every other one,
// and reuse layers found AVAILABLE just as their grace runs out; then,
// once the grace has passed, one more collection. Every image whose push
// was acknowledged and that was not deleted is still there and verifies;
// the layers only deleted images used are gone.
func (c *cluster) gcWhilePushing(t *testing.T, repo string) {
	const phase = 6 * time.Second
	deadline := time.Now().Add(phase)
	bases := [][]byte{layerBytes(48<<10, 331), layerBytes(40<<10, 332), layerBytes(56<<10, 333)}
	pushers := []*gcPusher{{id: 1, e: c.r[1].env, repo: repo, bases: bases}, {id: 2, e: c.r[2].env, repo: repo, bases: bases}}
	var reusers []*gcReuser
	for id := 1; id <= 4; id++ {
		e, check := c.r[1+id%2].env, c.r[2-id%2].env
		reusers = append(reusers, &gcReuser{id: id, c: c, e: e, check: check, repo: repo})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(pushers)+len(reusers)+1)
	for _, p := range pushers {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- p.run(deadline) }()
	}
	for _, u := range reusers {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- u.run(deadline) }()
	}
	var runs []gcRun
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			r, err := c.collect()
			if err != nil {
				errs <- err
				return
			}
			runs = append(runs, r)
		}
		errs <- nil
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	time.Sleep(replicaGCGrace)
	last, err := c.collect()
	if err != nil {
		t.Fatal(err)
	}
	runs = append(runs, last)
	var removed gcRun
	for _, r := range runs {
		removed.layers += r.layers
		removed.blobs += r.blobs
	}
	var pushed, deleted, refused int
	for _, p := range pushers {
		pushed += len(p.acked)
		deleted += len(p.deleted)
		refused += p.refused
	}
	t.Logf("%d collections on replica 0 removed %d layer records and %d blobs while replicas 1 and 2 pushed %d images and deleted %d (%d pushes refused and retried)",
		len(runs), removed.layers, removed.blobs, pushed, deleted, refused)
	var reused, collected int
	for _, u := range reusers {
		reused += u.reused
		collected += u.collected
	}
	t.Logf("layers found AVAILABLE as their grace ran out: %d reused by an image that then verified, %d collected before the image came (LayersNotFound)", reused, collected)
	if removed.blobs == 0 || deleted == 0 {
		t.Errorf("the collections removed %d blobs of %d deleted images: nothing to show they ran against the pushes", removed.blobs, deleted)
	}

	r0 := c.r[0].env
	for _, p := range pushers {
		for d, m := range p.acked {
			out, err := r0.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byDigest(d)}})
			switch {
			case err != nil:
				t.Errorf("BatchGetImage %s: %v", d, err)
			case p.deleted[d] && len(out.Images) != 0:
				t.Errorf("image %s deleted by pusher %d is still there", d, p.id)
			case !p.deleted[d] && (len(out.Images) != 1 || aws.ToString(out.Images[0].ImageManifest) != m.manifest):
				t.Errorf("image %s pushed by pusher %d: %+v, want its manifest", d, p.id, out.Images)
			}
			if !p.deleted[d] {
				continue
			}
			// Its own layer no image uses any more: collected.
			bcla, err := r0.ecr.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
				RepositoryName: aws.String(repo), LayerDigests: []string{m.own}})
			if err != nil {
				t.Errorf("BatchCheckLayerAvailability: %v", err)
			} else if len(bcla.Layers) != 0 {
				t.Errorf("layer %s of deleted image %s still %s after a collection past its grace", m.own, d, bcla.Layers[0].LayerAvailability)
			}
		}
	}
}

// gcRun is what one collection removed.
type gcRun struct{ layers, blobs int }

var gcRemovedRE = regexp.MustCompile(`removed (\d+) unused layer records and (\d+) blobs`)

// collect runs `ecrd gc` once on replica 0's data dir and stores.
func (c *cluster) collect() (gcRun, error) {
	args, env := c.storeArgs()
	cc, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	cmd := exec.CommandContext(cc, c.bin, append([]string{"gc", "--data-dir", c.r[0].dir,
		"--gc-grace", replicaGCGrace.String()}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	m := gcRemovedRE.FindSubmatch(out)
	if err != nil || m == nil {
		return gcRun{}, fmt.Errorf("ecrd gc: %v\n%s", err, out)
	}
	layers, _ := strconv.Atoi(string(m[1]))
	blobs, _ := strconv.Atoi(string(m[2]))
	return gcRun{layers, blobs}, nil
}

// gcPusher pushes images to one replica until the deadline, deleting
// every other one it pushed.
type gcPusher struct {
	id      int
	e       *crashEnv
	repo    string
	bases   [][]byte // layers shared by both pushers' images
	acked   map[string]gcImage
	deleted map[string]bool
	refused int // pushes refused and pushed again
}

// gcImage is an acknowledged image: its manifest and the layer only it uses.
type gcImage struct{ manifest, own string }

func (p *gcPusher) run(deadline time.Time) error {
	p.acked, p.deleted = map[string]gcImage{}, map[string]bool{}
	var prev string
	for n := 0; time.Now().Before(deadline); n++ {
		d, err := p.push(n)
		if err != nil {
			// A layer found AVAILABLE may have been collected since:
			// the push starts over, once.
			p.refused++
			if d, err = p.push(n); err != nil {
				return fmt.Errorf("pusher %d, image %d: %w", p.id, n, err)
			}
		}
		if n%2 == 1 {
			cc, cancel := context.WithTimeout(context.Background(), crashTimeout)
			out, err := p.e.ecr.BatchDeleteImage(cc, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(p.repo),
				ImageIds: []types.ImageIdentifier{byDigest(prev)}})
			cancel()
			if err != nil || len(out.Failures) != 0 {
				return fmt.Errorf("pusher %d: deleting %s: %+v, %v", p.id, prev, out, err)
			}
			p.deleted[prev] = true
		}
		prev = d
	}
	return nil
}

// push pushes image n: a shared base layer unless the repository has it,
// a layer of its own, a config, and the manifest under a tag of its own.
func (p *gcPusher) push(n int) (string, error) {
	cc, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	base := p.bases[n%len(p.bases)]
	bcla, err := p.e.ecr.BatchCheckLayerAvailability(cc, &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String(p.repo), LayerDigests: []string{digestOf(base)}})
	if err != nil {
		return "", fmt.Errorf("BatchCheckLayerAvailability: %w", err)
	}
	if len(bcla.Layers) != 1 || bcla.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable {
		if err := p.e.ecrPushLayer(p.repo, base); err != nil {
			return "", fmt.Errorf("base layer: %w", err)
		}
	}
	own := layerBytes(32<<10+n, uint64(p.id*100000+n))
	cfg := fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"pusher":%d,"n":%d}`, p.id, n)
	for _, b := range [][]byte{own, cfg} {
		if err := p.e.ecrPushLayer(p.repo, b); err != nil {
			return "", err
		}
	}
	manifest := ociManifest(blob{digestOf(cfg), len(cfg)}, "", blob{digestOf(base), len(base)}, blob{digestOf(own), len(own)})
	_, err = p.e.ecr.PutImage(cc, &ecr.PutImageInput{RepositoryName: aws.String(p.repo), ImageManifest: aws.String(manifest),
		ImageTag: aws.String(fmt.Sprintf("p%d-%d", p.id, n))})
	if err != nil {
		return "", fmt.Errorf("PutImage: %w", err)
	}
	d := digestOf([]byte(manifest))
	p.acked[d] = gcImage{manifest: manifest, own: digestOf(own)}
	return d, nil
}

// gcReuser races the collector: it leaves a layer unreferenced for about
// the grace period, finds it AVAILABLE and puts an image that uses it
// without uploading it again, over and over. Either the put wins (and the
// image, layer included, downloads whole) or the collection does (and the
// put is refused with LayersNotFound); never an image with a missing blob.
type gcReuser struct {
	id       int
	c        *cluster
	e, check *crashEnv // where it pushes, and where it checks the image
	repo     string
	// reused and collected count the rounds the put won and lost.
	reused, collected int
}

func (u *gcReuser) run(deadline time.Time) error {
	rng := rand.New(rand.NewPCG(uint64(u.id), 340))
	layer := layerBytes(24<<10, uint64(340+u.id))
	if err := u.e.ecrPushLayer(u.repo, layer); err != nil {
		return fmt.Errorf("reuser %d: %w", u.id, err)
	}
	for n := 0; ; n++ {
		// About the grace period since the layer was last let go of.
		time.Sleep(replicaGCGrace - 300*time.Millisecond + time.Duration(rng.IntN(600))*time.Millisecond)
		if !time.Now().Before(deadline) {
			return nil
		}
		cc, cancel := context.WithTimeout(context.Background(), crashTimeout)
		err := u.round(cc, n, layer, rng)
		cancel()
		if err != nil {
			return fmt.Errorf("reuser %d, round %d: %w", u.id, n, err)
		}
	}
}

func (u *gcReuser) round(cc context.Context, n int, layer []byte, rng *rand.Rand) error {
	bcla, err := u.e.ecr.BatchCheckLayerAvailability(cc, &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String(u.repo), LayerDigests: []string{digestOf(layer)}})
	if err != nil {
		return fmt.Errorf("BatchCheckLayerAvailability: %w", err)
	}
	cfg := fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"reuser":%d,"n":%d}`, u.id, n)
	if err := u.e.ecrPushLayer(u.repo, cfg); err != nil {
		return err
	}
	if len(bcla.Layers) != 1 || bcla.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable {
		// Collected already: pushed again, for the next round's race.
		return u.e.ecrPushLayer(u.repo, layer)
	}
	time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
	manifest := ociManifest(blob{digestOf(cfg), len(cfg)}, "", blob{digestOf(layer), len(layer)})
	_, err = u.e.ecr.PutImage(cc, &ecr.PutImageInput{RepositoryName: aws.String(u.repo), ImageManifest: aws.String(manifest)})
	var lnf *types.LayersNotFoundException
	switch {
	case errors.As(err, &lnf):
		u.collected++
		return u.e.ecrPushLayer(u.repo, layer)
	case err != nil:
		return fmt.Errorf("PutImage: %w", err)
	}
	u.reused++
	d := digestOf([]byte(manifest))
	for _, b := range []string{digestOf(cfg), digestOf(layer)} {
		if err := u.c.checkBlob(u.check, u.repo, b); err != nil {
			return fmt.Errorf("image %s, put as its layer was found AVAILABLE: %w", d, err)
		}
	}
	// Let go of the layer again, for the next round's race.
	out, err := u.e.ecr.BatchDeleteImage(cc, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(u.repo), ImageIds: []types.ImageIdentifier{byDigest(d)}})
	if err != nil || len(out.Failures) != 0 {
		return fmt.Errorf("deleting %s: %+v, %v", d, out, err)
	}
	return nil
}

// verifyAll checks every image of every repository, spreading the reads
// over the replicas: its manifest hashes to its digest, and every blob it
// references downloads and hashes to its own.
func (c *cluster) verifyAll(t *testing.T) (images, blobs int) {
	t.Helper()
	r := func(i int) *crashEnv { return c.r[i%len(c.r)].env }
	checked := map[string]bool{}
	repos := ecr.NewDescribeRepositoriesPaginator(r(0).ecr, &ecr.DescribeRepositoriesInput{})
	for repos.HasMorePages() {
		page, err := repos.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("DescribeRepositories: %v", err)
		}
		for _, repo := range page.Repositories {
			name := aws.ToString(repo.RepositoryName)
			var ids []types.ImageIdentifier
			list := ecr.NewListImagesPaginator(r(1).ecr, &ecr.ListImagesInput{RepositoryName: repo.RepositoryName})
			for list.HasMorePages() {
				lp, err := list.NextPage(ctx(t))
				if err != nil {
					t.Fatalf("ListImages %s: %v", name, err)
				}
				for _, id := range lp.ImageIds {
					if d := aws.ToString(id.ImageDigest); !checked[name+"@"+d] {
						checked[name+"@"+d] = true
						ids = append(ids, byDigest(d))
					}
				}
			}
			for len(ids) > 0 {
				batch := ids[:min(100, len(ids))]
				ids = ids[len(batch):]
				out, err := r(2).ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: repo.RepositoryName, ImageIds: batch})
				if err != nil || len(out.Failures) != 0 || len(out.Images) != len(batch) {
					t.Fatalf("BatchGetImage %s: %d images, failures %+v, %v", name, len(out.Images), out.Failures, err)
				}
				for _, img := range out.Images {
					images++
					n, err := c.verifyImage(name, img, r(images))
					blobs += n
					if err != nil {
						t.Error(err)
					}
				}
			}
		}
	}
	if images == 0 {
		t.Error("no image to verify")
	}
	return images, blobs
}

// verifyImage checks one image's manifest and downloads its blobs from e.
func (c *cluster) verifyImage(repo string, img types.Image, e *crashEnv) (int, error) {
	d, m := aws.ToString(img.ImageId.ImageDigest), aws.ToString(img.ImageManifest)
	if got := digestOf([]byte(m)); got != d {
		return 0, fmt.Errorf("image %s of %s: its manifest hashes to %s", d, repo, got)
	}
	var parsed struct {
		Config *struct{ Digest string }  `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal([]byte(m), &parsed); err != nil {
		return 0, fmt.Errorf("image %s of %s: %w", d, repo, err)
	}
	refs := make([]string, 0, len(parsed.Layers)+1)
	if parsed.Config != nil {
		refs = append(refs, parsed.Config.Digest)
	}
	for _, l := range parsed.Layers {
		refs = append(refs, l.Digest)
	}
	var errs []error
	for _, b := range refs {
		if err := c.checkBlob(e, repo, b); err != nil {
			errs = append(errs, fmt.Errorf("image %s of %s: %w", d, repo, err))
		}
	}
	return len(refs), errors.Join(errs...)
}
