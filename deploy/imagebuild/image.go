package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// historyComment marks the history entries imagebuild writes, as BuildKit
// marks its own.
const historyComment = "ecrd imagebuild"

// buildImage makes the image of a final stage for one platform: a layer
// per COPY, read from stageDirs (the directory of each stage copied from),
// the stage's configuration, and a history entry per instruction. Layer
// files are written under tmp and read from there until the image is
// written out.
func buildImage(s *stage, p platform, stageDirs map[string]string, created time.Time, tmp string) (v1.Image, error) {
	l := newLayerer(tmp, created)
	var (
		layers  []v1.Layer
		diffIDs []v1.Hash
		history []v1.History
	)
	for _, st := range s.steps {
		h := v1.History{Created: v1.Time{Time: created}, CreatedBy: st.text, Comment: historyComment, EmptyLayer: st.copy == nil}
		history = append(history, h)
		if st.copy == nil {
			continue
		}
		root, ok := stageDirs[st.copy.from]
		if !ok {
			return nil, fmt.Errorf("%s: no directory given for stage %q (-stage %s=DIR)", st.text, st.copy.from, st.copy.from)
		}
		layer, err := l.layer(st.copy, root)
		if err != nil {
			return nil, err
		}
		diffID, err := layer.DiffID()
		if err != nil {
			return nil, err
		}
		layers, diffIDs = append(layers, layer), append(diffIDs, diffID)
	}
	if wd := s.config.WorkingDir; wd != "" && !l.dirs[wd] {
		return nil, fmt.Errorf("WORKDIR %s: no COPY makes it (imagebuild does not create directories for WORKDIR)", wd)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: p.arch,
		OS:           p.os,
		Created:      v1.Time{Time: created},
		Config:       s.config,
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: diffIDs},
		History:      history,
	})
}

// writeLayout writes imgs to an OCI image layout at dir and returns the
// digest of what is to be pushed. With one platform the layout's index.json
// lists the image (crane push DIR pushes it); with several, index.json is
// itself the image index, one image per platform (crane push --index DIR
// pushes it as is). It replaces a layout already there but refuses to clear
// any other directory.
func writeLayout(dir string, platforms []platform, imgs []v1.Image) (v1.Hash, error) {
	if err := clearLayout(dir); err != nil {
		return v1.Hash{}, err
	}
	if len(imgs) == 1 {
		lp, err := layout.Write(dir, empty.Index)
		if err != nil {
			return v1.Hash{}, err
		}
		if err := lp.AppendImage(imgs[0]); err != nil {
			return v1.Hash{}, err
		}
		return imgs[0].Digest()
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, img := range imgs {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: platforms[i].os, Architecture: platforms[i].arch}},
		})
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

func clearLayout(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(ents) == 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return fmt.Errorf("%s is neither empty nor an OCI image layout: not replacing it", dir)
	}
	return os.RemoveAll(dir)
}
