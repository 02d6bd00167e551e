// Package signing is ecrd's managed signing: it signs the images the core
// records as due for signing (internal/registry signing.go) with the key
// configured for each signing profile (--signing-keys), in the Notary
// Project's format, and pushes each signature into the image's repository
// as a referrer of the image.
package signing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ecrd/ecrd/internal/buildinfo"
	"github.com/ecrd/ecrd/internal/registry"
)

// Failure codes of a FAILED signing (with SigningAccessDenied, the core's).
const (
	FailureProfileNotConfigured = "SIGNING_PROFILE_NOT_CONFIGURED"
	FailureImageNotFound        = "IMAGE_NOT_FOUND"
	FailureUnavailable          = "SIGNING_FAILED"
)

// Signer works through the due signings.
type Signer struct {
	reg  *registry.Registry
	keys Keys
	log  *slog.Logger
}

// New returns a signer over the core signing with keys.
func New(reg *registry.Registry, keys Keys, log *slog.Logger) *Signer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Signer{reg: reg, keys: keys, log: log}
}

// lease bounds one attempt; maxAttempts is how many a signing the store
// failed gets.
const (
	lease       = 10 * time.Minute
	maxAttempts = 10
)

// RunOnce makes every signing due now and returns how many it attempted.
func (s *Signer) RunOnce(ctx context.Context) int {
	core := registry.AsCore(ctx)
	tasks, err := s.reg.DueSignings(core, 64)
	if err != nil {
		s.log.Warn("signing: reading the due signings failed", "err", err)
		return 0
	}
	n := 0
	for _, t := range tasks {
		if ctx.Err() != nil {
			break
		}
		claimed, ok, err := s.reg.ClaimSigning(core, t, lease)
		if err != nil || !ok {
			continue
		}
		n++
		outcome := claimed
		outcome.Attempts++
		sig, code, err := s.sign(ctx, claimed)
		image := string(t.Key.Registry) + "/" + string(t.Key.Name) + "@" + string(t.Digest)
		switch {
		case err == nil:
			outcome.Status, outcome.Signature, outcome.NextAttempt = registry.SigningComplete, sig, time.Time{}
			s.log.Info("signing: image signed", "image", image, "profile", t.ProfileARN, "signature", sig)
		case code != "" || outcome.Attempts >= maxAttempts:
			if code == "" {
				code = FailureUnavailable
			}
			outcome.Status, outcome.FailureCode, outcome.FailureReason, outcome.NextAttempt = registry.SigningFailed, code, err.Error(), time.Time{}
		default:
			outcome.NextAttempt = s.reg.Now().UTC().Add(time.Duration(outcome.Attempts) * 10 * time.Second)
		}
		if err != nil {
			s.log.Warn("signing: an attempt failed", "image", image, "profile", t.ProfileARN, "attempt", outcome.Attempts, "status", outcome.Status, "err", err)
		}
		if err := s.reg.RecordSigning(core, claimed, outcome); err != nil {
			s.log.Warn("signing: recording an attempt failed", "err", err)
		}
	}
	return n
}

// sign signs the image of t and pushes the signature; a failure with a
// code is final, one without is the store's, worth trying again.
func (s *Signer) sign(ctx context.Context, t registry.SigningTask) (registry.Digest, string, error) {
	k, ok := s.keys[t.ProfileARN]
	if !ok {
		return "", FailureProfileNotConfigured, fmt.Errorf("ecrd has no key for the signing profile %s (--signing-keys)", t.ProfileARN)
	}
	core := registry.AsCore(registry.WithCaller(ctx, registry.AccountAdmin(t.Key.Registry, "")))
	img, err := s.reg.StoredImage(core, t.Key, t.Digest)
	if errors.Is(err, registry.ErrNotFound) {
		return "", FailureImageNotFound, errors.New("the image is gone")
	} else if err != nil {
		return "", "", err
	}
	target := Descriptor{MediaType: img.MediaType, Digest: string(img.Digest), Size: int64(len(img.Manifest))}
	sig, err := Sign(k, target, s.reg.Now(), "ecrd/"+buildinfo.Read().Version)
	if err != nil {
		return "", FailureUnavailable, err
	}
	for _, b := range [][]byte{sig.Config, sig.Envelope} {
		if err := s.pushBlob(core, t.Key, b); err != nil {
			return "", "", err
		}
	}
	put, err := s.reg.PutImage(core, registry.NewImage{Key: t.Key, Manifest: sig.Manifest})
	if registry.IsCode(err, registry.CodeImageAlreadyExists) {
		return registry.Digest(describe("", sig.Manifest).Digest), "", nil
	} else if err != nil {
		return "", "", err
	}
	return put.Digest, "", nil
}

// pushBlob uploads b into the repository, unless it has it already.
func (s *Signer) pushBlob(ctx context.Context, key registry.RepoKey, b []byte) error {
	d := describe("", b).Digest
	if _, err := s.reg.StatBlob(ctx, key, d); err == nil {
		return nil
	}
	u, err := s.reg.InitiateLayerUpload(ctx, key)
	if err != nil {
		return err
	}
	if _, err = s.reg.AppendUpload(ctx, key, u.ID, 0, -1, bytes.NewReader(b)); err == nil {
		_, err = s.reg.FinishUpload(ctx, key, u.ID, d)
	}
	if err != nil {
		_ = s.reg.CancelUpload(ctx, key, u.ID)
	}
	return err
}
