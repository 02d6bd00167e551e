package registrytest

import (
	"bytes"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// metaPublic returns account's public registry with every field set.
func metaPublic(account registry.RegistryID, alias string) registry.PublicRegistry {
	return registry.PublicRegistry{
		Account:     account,
		Alias:       alias,
		DisplayName: "Display of " + alias,
		CreatedAt:   metaTime(-48 * time.Hour),
	}
}

func normPublic(p registry.PublicRegistry) registry.PublicRegistry {
	p.CreatedAt = metaMicro(p.CreatedAt)
	return p
}

// metaCatalog returns catalog data with every field set, logo included: a
// logo of 300 KB with every byte value, so that it spans many database pages
// and no byte is mistaken for a terminator.
func metaCatalog(about string) registry.Catalog {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	logo := bytes.Repeat(b, 1200)
	return registry.Catalog{
		Description:      "An image for " + about,
		Architectures:    []string{"x86-64", "ARM 64", "ARM"},
		OperatingSystems: []string{"Linux", "Windows"},
		AboutText:        "# About " + about + "\n\nMarkdown, with `code` and ünïcödé.",
		UsageText:        "docker pull " + about,
		Logo:             logo,
		LogoDigest:       metaDigest(string(logo)),
	}
}

// normCatalog counts a nil and an empty list as equal. It leaves Logo
// alone: a read must return it nil, not empty.
func normCatalog(c registry.Catalog) registry.Catalog {
	if len(c.Architectures) == 0 {
		c.Architectures = nil
	}
	if len(c.OperatingSystems) == 0 {
		c.OperatingSystems = nil
	}
	return c
}

// metaWantPublic checks that the registry reads back as want by account and
// by alias.
func metaWantPublic(t *testing.T, tx registry.Tx, want registry.PublicRegistry) {
	t.Helper()
	got, err := tx.PublicRegistry(want.Account)
	if err != nil {
		t.Errorf("PublicRegistry(%s): %v", want.Account, err)
	} else {
		metaSame(t, "PublicRegistry("+string(want.Account)+")", got, want, normPublic)
	}
	got, err = tx.PublicRegistryByAlias(want.Alias)
	if err != nil {
		t.Errorf("PublicRegistryByAlias(%q): %v", want.Alias, err)
	} else {
		metaSame(t, "PublicRegistryByAlias("+want.Alias+")", got, want, normPublic)
	}
}

// metaWantCatalog checks the repository's catalog data and logo against
// want; a want without a logo means RepositoryLogo is ErrNotFound.
func metaWantCatalog(t *testing.T, tx registry.Tx, key registry.RepoKey, want registry.Catalog) {
	t.Helper()
	where := string(key.Registry) + "/" + string(key.Name)
	got, err := tx.RepositoryCatalog(key)
	if err != nil {
		t.Errorf("RepositoryCatalog(%s): %v", where, err)
		return
	}
	if got.Logo != nil {
		t.Errorf("RepositoryCatalog(%s) returned %d logo bytes, want Logo nil", where, len(got.Logo))
	}
	meta := want
	meta.Logo, got.Logo = nil, nil
	metaSame(t, "RepositoryCatalog("+where+")", got, meta, normCatalog)
	logo, err := tx.RepositoryLogo(key)
	if len(want.Logo) == 0 {
		metaWantErr(t, "RepositoryLogo("+where+") without a logo", err, registry.ErrNotFound)
		return
	}
	if err != nil || !bytes.Equal(logo, want.Logo) {
		t.Errorf("RepositoryLogo(%s) = %d bytes, %v; want the %d bytes put", where, len(logo), err, len(want.Logo))
	}
}

// metaWantPolicy checks the repository's policy: want, or ErrNotFound for "".
func metaWantPolicy(t *testing.T, tx registry.Tx, key registry.RepoKey, want string) {
	t.Helper()
	where := string(key.Registry) + "/" + string(key.Name)
	got, err := tx.RepositoryPolicy(key)
	if want == "" {
		metaWantErr(t, "RepositoryPolicy("+where+")", err, registry.ErrNotFound)
		return
	}
	if err != nil || got != want {
		t.Errorf("RepositoryPolicy(%s) = %q, %v; want %q", where, got, err, want)
	}
}

// metaWantNoCatalog checks that the repository has neither catalog data,
// logo nor policy.
func metaWantNoCatalog(t *testing.T, tx registry.Tx, key registry.RepoKey) {
	t.Helper()
	where := string(key.Registry) + "/" + string(key.Name)
	_, err := tx.RepositoryCatalog(key)
	metaWantErr(t, "RepositoryCatalog("+where+")", err, registry.ErrNotFound)
	_, err = tx.RepositoryLogo(key)
	metaWantErr(t, "RepositoryLogo("+where+")", err, registry.ErrNotFound)
	metaWantPolicy(t, tx, key, "")
}

func testPublicRegistryRoundTrip(t *testing.T, s registry.MetaStore) {
	a, b := metaPublic(metaRegA, "alpha"), metaPublic(metaRegB, "beta")
	a.DisplayName = "Ünïcödé display, with spaces"
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.PutPublicRegistry(a); err != nil {
			return err
		}
		return tx.PutPublicRegistry(b)
	})
	metaView(t, s, func(tx registry.Tx) error {
		metaWantPublic(t, tx, a)
		metaWantPublic(t, tx, b)
		return nil
	})
}

func testPublicRegistryNotFound(t *testing.T, s registry.MetaStore) {
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(metaPublic(metaRegA, "alpha")) })
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.PublicRegistry(metaRegB)
		metaWantErr(t, "PublicRegistry of an account without one", err, registry.ErrNotFound)
		// The registry ID of the public registry is not its account.
		_, err = tx.PublicRegistry(registry.PublicRegistryOf(metaRegB))
		metaWantErr(t, "PublicRegistry by a public registry ID", err, registry.ErrNotFound)
		for _, alias := range []string{"beta", "alph", "ALPHA", ""} {
			_, err = tx.PublicRegistryByAlias(alias)
			metaWantErr(t, "PublicRegistryByAlias("+alias+")", err, registry.ErrNotFound)
		}
		return nil
	})
}

// testPublicRegistryPutReplaces: a second put for the account replaces
// every field, frees the old alias, and may repeat the account's own alias.
func testPublicRegistryPutReplaces(t *testing.T, s registry.MetaStore) {
	first := metaPublic(metaRegA, "alpha")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(first) })
	second := registry.PublicRegistry{Account: metaRegA, Alias: "alpha-2", DisplayName: "Second", CreatedAt: metaTime(time.Hour)}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(second) })
	metaView(t, s, func(tx registry.Tx) error {
		metaWantPublic(t, tx, second)
		_, err := tx.PublicRegistryByAlias("alpha")
		metaWantErr(t, "PublicRegistryByAlias of the replaced alias", err, registry.ErrNotFound)
		return nil
	})
	third := second
	third.DisplayName = ""
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(third) })
	freed := metaPublic(metaRegB, "alpha")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(freed) })
	metaView(t, s, func(tx registry.Tx) error {
		metaWantPublic(t, tx, third)
		metaWantPublic(t, tx, freed)
		return nil
	})
}

// testPublicRegistryAliasTaken: an alias another account holds is refused
// with ErrExists, on create and on replace, and nothing changes.
func testPublicRegistryAliasTaken(t *testing.T, s registry.MetaStore) {
	a, b := metaPublic(metaRegA, "alpha"), metaPublic(metaRegB, "beta")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(a) })
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.PutPublicRegistry(registry.PublicRegistry{Account: metaRegB, Alias: "alpha", CreatedAt: metaTime(0)})
	})
	metaWantErr(t, "PutPublicRegistry creating with a taken alias", err, registry.ErrExists)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutPublicRegistry(b) })
	err = s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.PutPublicRegistry(registry.PublicRegistry{Account: metaRegB, Alias: "alpha", DisplayName: "x", CreatedAt: metaTime(0)})
	})
	metaWantErr(t, "PutPublicRegistry replacing with a taken alias", err, registry.ErrExists)
	metaView(t, s, func(tx registry.Tx) error {
		metaWantPublic(t, tx, a)
		metaWantPublic(t, tx, b)
		return nil
	})
}

func testCatalogRoundTrip(t *testing.T, s registry.MetaStore) {
	key := metaKey(registry.PublicRegistryOf(metaRegA), "team/app")
	metaCreateRepos(t, s, key)
	want := metaCatalog("app")
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRepositoryCatalog(key, want) })
	metaView(t, s, func(tx registry.Tx) error {
		metaWantCatalog(t, tx, key, want)
		return nil
	})
}

// testCatalogReplaceWithoutLogo: a put replaces the catalog data wholly; one
// without a logo removes the stored logo.
func testCatalogReplaceWithoutLogo(t *testing.T, s registry.MetaStore) {
	key := metaKey(registry.PublicRegistryOf(metaRegA), "app")
	metaCreateRepos(t, s, key)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRepositoryCatalog(key, metaCatalog("app")) })
	for _, want := range []registry.Catalog{
		{Description: "only a description"},
		{Architectures: []string{}, OperatingSystems: []string{}, Logo: []byte{}},
		metaCatalog("again"),
		{AboutText: "logo gone again", OperatingSystems: []string{"Linux"}},
	} {
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRepositoryCatalog(key, want) })
		metaView(t, s, func(tx registry.Tx) error {
			metaWantCatalog(t, tx, key, want)
			return nil
		})
	}
}

func testCatalogNotFound(t *testing.T, s registry.MetaStore) {
	key := metaKey(registry.PublicRegistryOf(metaRegA), "app")
	metaCreateRepos(t, s, key)
	metaView(t, s, func(tx registry.Tx) error {
		metaWantNoCatalog(t, tx, key)
		metaWantNoCatalog(t, tx, metaKey(registry.PublicRegistryOf(metaRegA), "missing"))
		return nil
	})
}

func testPolicy(t *testing.T, s registry.MetaStore) {
	key := metaKey(registry.PublicRegistryOf(metaRegA), "app")
	metaCreateRepos(t, s, key)
	metaView(t, s, func(tx registry.Tx) error { metaWantPolicy(t, tx, key, ""); return nil })
	for _, text := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr-public:*"}]}`,
		`{"Version":"2012-10-17","Statement":[]}`,
	} {
		metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutRepositoryPolicy(key, text) })
		metaView(t, s, func(tx registry.Tx) error { metaWantPolicy(t, tx, key, text); return nil })
	}
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepositoryPolicy(key) })
	metaView(t, s, func(tx registry.Tx) error { metaWantPolicy(t, tx, key, ""); return nil })
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteRepositoryPolicy(key) })
	metaWantErr(t, "second DeleteRepositoryPolicy", err, registry.ErrNotFound)
}

// testPublicPerRepository: an account's private and public repositories of
// the same name, and another account's, keep their own records.
func testPublicPerRepository(t *testing.T, s registry.MetaStore) {
	priv, pub := metaKey(metaRegA, "app"), metaKey(registry.PublicRegistryOf(metaRegA), "app")
	other := metaKey(registry.PublicRegistryOf(metaRegB), "app")
	metaCreateRepos(t, s, priv, pub, other)
	pubCatalog := metaCatalog("public")
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.PutRepositoryCatalog(pub, pubCatalog); err != nil {
			return err
		}
		return tx.PutRepositoryPolicy(pub, "public policy")
	})
	metaView(t, s, func(tx registry.Tx) error {
		metaWantNoCatalog(t, tx, priv)
		metaWantNoCatalog(t, tx, other)
		return nil
	})
	privCatalog := registry.Catalog{Description: "private", Architectures: []string{"ARM"}}
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.PutRepositoryCatalog(priv, privCatalog); err != nil {
			return err
		}
		if err := tx.PutRepositoryPolicy(priv, "private policy"); err != nil {
			return err
		}
		return tx.DeleteRepositoryPolicy(pub)
	})
	metaView(t, s, func(tx registry.Tx) error {
		metaWantCatalog(t, tx, pub, pubCatalog)
		metaWantPolicy(t, tx, pub, "")
		metaWantCatalog(t, tx, priv, privCatalog)
		metaWantPolicy(t, tx, priv, "private policy")
		metaWantNoCatalog(t, tx, other)
		return nil
	})
}

// testRepositoryDeleteCascadesCatalogAndPolicy: the catalog data, logo and
// policy go with their repository, and only with it.
func testRepositoryDeleteCascadesCatalogAndPolicy(t *testing.T, s registry.MetaStore) {
	gone, kept := metaKey(registry.PublicRegistryOf(metaRegA), "app"), metaKey(registry.PublicRegistryOf(metaRegA), "kept")
	metaCreateRepos(t, s, gone, kept)
	c := metaCatalog("app")
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, k := range []registry.RepoKey{gone, kept} {
			if err := tx.PutRepositoryCatalog(k, c); err != nil {
				return err
			}
			if err := tx.PutRepositoryPolicy(k, "policy"); err != nil {
				return err
			}
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteRepository(gone) })
	metaCreateRepos(t, s, gone)
	metaView(t, s, func(tx registry.Tx) error {
		metaWantNoCatalog(t, tx, gone)
		metaWantCatalog(t, tx, kept, c)
		metaWantPolicy(t, tx, kept, "policy")
		return nil
	})
	err := s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteRepositoryPolicy(gone) })
	metaWantErr(t, "DeleteRepositoryPolicy of the re-created repository", err, registry.ErrNotFound)
}
