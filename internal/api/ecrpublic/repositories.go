package ecrpublic

import (
	"context"
	"net/http"
	"strings"

	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) createRepository(ctx context.Context, in *createRepositoryInput) (*createRepositoryOutput, error) {
	p, err := a.reg.CallerPublicRegistry(ctx)
	if err != nil {
		return nil, err
	}
	key, err := a.key(ctx, "", in.RepositoryName, true)
	if err != nil {
		return nil, err
	}
	nr := registry.NewRepository{Key: key}
	for _, t := range in.Tags {
		nr.Tags = append(nr.Tags, registry.ResourceTag{Key: t.Key, Value: t.Value})
	}
	if in.CatalogData != nil {
		c := catalogOf(in.CatalogData)
		nr.Catalog = &c
	}
	repo, err := a.reg.CreateRepository(ctx, nr)
	if err != nil {
		return nil, err
	}
	out := &createRepositoryOutput{Repository: a.repository(p, repo)}
	if nr.Catalog != nil {
		// As stored: the repository exists now, so the answer must not
		// depend on another read that could fail.
		cd := a.catalogData(p, key.Name, *nr.Catalog)
		out.CatalogData = &cd
	}
	return out, nil
}

func (a *API) describeRepositories(ctx context.Context, in *describeRepositoriesInput) (*describeRepositoriesOutput, error) {
	p, err := a.reg.CallerPublicRegistry(ctx)
	if err != nil {
		return nil, err
	}
	reg := p.ID()
	if in.RegistryID != "" && in.RegistryID != string(p.Account) {
		// Another account's registry: the core hides it.
		id, err := registry.ParseRegistryID(in.RegistryID)
		if err != nil {
			return nil, err
		}
		reg = registry.PublicRegistryOf(id)
	}
	out := &describeRepositoriesOutput{Repositories: []repository{}}
	if in.RepositoryNames != nil {
		if in.NextToken != nil || in.MaxResults != nil {
			return nil, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter: nextToken and maxResults cannot be used when repositoryNames are given")
		}
		names := make([]registry.RepositoryName, len(in.RepositoryNames))
		for i, s := range in.RepositoryNames {
			if names[i], err = registry.ParseRepositoryName(s); err != nil {
				return nil, err
			}
		}
		repos, err := a.reg.DescribeRepositories(ctx, reg, names)
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			out.Repositories = append(out.Repositories, a.repository(p, r))
		}
		return out, nil
	}
	repos, next, err := a.reg.ListRepositories(ctx, reg, ecrshared.Page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	for _, r := range repos {
		out.Repositories = append(out.Repositories, a.repository(p, r))
	}
	out.NextToken = next
	return out, nil
}

func (a *API) deleteRepository(ctx context.Context, in *deleteRepositoryInput) (*deleteRepositoryOutput, error) {
	p, key, err := a.ownKey(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	repo, err := a.reg.DeleteRepository(ctx, key, in.Force)
	if err != nil {
		return nil, err
	}
	return &deleteRepositoryOutput{Repository: a.repository(p, repo)}, nil
}

func (a *API) getRepositoryCatalogData(ctx context.Context, in *getRepositoryCatalogDataInput) (*getRepositoryCatalogDataOutput, error) {
	p, key, err := a.ownKey(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	c, err := a.reg.RepositoryCatalog(ctx, key)
	if err != nil {
		return nil, err
	}
	return &getRepositoryCatalogDataOutput{CatalogData: a.catalogData(p, key.Name, c)}, nil
}

func (a *API) putRepositoryCatalogData(ctx context.Context, in *putRepositoryCatalogDataInput) (*putRepositoryCatalogDataOutput, error) {
	p, key, err := a.ownKey(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	c, err := a.reg.PutRepositoryCatalog(ctx, key, catalogOf(&in.CatalogData))
	if err != nil {
		return nil, err
	}
	return &putRepositoryCatalogDataOutput{CatalogData: a.catalogData(p, key.Name, c)}, nil
}

// ownKey is key for the operations whose registryId is an account ID, with
// the caller's public registry to render URIs by.
func (a *API) ownKey(ctx context.Context, registryID, name string) (registry.PublicRegistry, registry.RepoKey, error) {
	p, err := a.reg.CallerPublicRegistry(ctx)
	if err != nil {
		return p, registry.RepoKey{}, err
	}
	key, err := a.key(ctx, registryID, name, false)
	return p, key, err
}

func catalogOf(in *catalogInput) registry.Catalog {
	return registry.Catalog{
		Description:      in.Description,
		Architectures:    in.Architectures,
		OperatingSystems: in.OperatingSystems,
		AboutText:        in.AboutText,
		UsageText:        in.UsageText,
		Logo:             in.LogoImageBlob,
	}
}

// catalogData renders catalog data; the logo is linked, served by the
// public listener to anyone (LogoPath), with its digest in the URL so that
// a new logo is a new URL to caches.
func (a *API) catalogData(p registry.PublicRegistry, name registry.RepositoryName, c registry.Catalog) catalogData {
	out := catalogData{
		Description:      c.Description,
		Architectures:    c.Architectures,
		OperatingSystems: c.OperatingSystems,
		AboutText:        c.AboutText,
		UsageText:        c.UsageText,
	}
	if c.LogoDigest != "" {
		out.LogoURL = a.scheme + a.hostname + LogoPath + p.Alias + "/" + string(name) + "?digest=" + string(c.LogoDigest)
	}
	return out
}

// LogoPath is where the public listener serves repository logos:
// LogoPath<alias>/<repository>.
const LogoPath = "/ecrd/logos/"

// logoHandler serves repository logos to anyone, as the gallery shows
// them.
func (a *API) logoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		alias, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, LogoPath), "/")
		p, err := a.reg.PublicRegistryByAlias(r.Context(), alias)
		var logo []byte
		if err == nil {
			n, nerr := registry.ParseRepositoryName(name)
			if nerr != nil {
				http.NotFound(w, r)
				return
			}
			logo, err = a.reg.RepositoryLogo(r.Context(), registry.RepoKey{Registry: p.ID(), Name: n})
		}
		switch se, storage := registry.AsStorageError(err); {
		case err == nil:
		case registry.IsCode(err, registry.CodeRegistryNotFound, registry.CodeRepositoryNotFound):
			http.NotFound(w, r)
			return
		case storage:
			http.Error(w, se.Message(), http.StatusInternalServerError)
			return
		default:
			a.log.Error("serving a repository logo", "path", r.URL.Path, "err", err)
			http.Error(w, "could not read the logo; the server log has the details", http.StatusInternalServerError)
			return
		}
		// Only images were accepted; whatever else is served as bytes,
		// never as a page.
		typ := registry.LogoType(logo)
		if typ == "" {
			typ = "application/octet-stream"
		}
		w.Header().Set("Content-Type", typ)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(logo)
	})
}
