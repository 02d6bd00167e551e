package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
)

// aliasPattern is ECR Public's RegistryAliasName pattern (2..50 characters).
var aliasPattern = regexp.MustCompile(`^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// ParseRegistryAlias checks s against the model's RegistryAliasName.
func ParseRegistryAlias(s string) (string, error) {
	if len(s) < 2 || len(s) > 50 || !aliasPattern.MatchString(s) {
		return "", Errorf(CodeInvalidParameter, "Invalid registry alias '%s': it must be 2 to 50 characters matching '[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*'", s)
	}
	return s, nil
}

// PublicRepositoryARN is the ARN ECR Public gives a repository: no region,
// since ECR Public is global.
func PublicRepositoryARN(key RepoKey) string {
	return fmt.Sprintf("arn:aws:ecr-public::%s:repository/%s", key.Registry.Account(), key.Name)
}

// PublicRegistryARN is the ARN of an account's public registry.
func PublicRegistryARN(account RegistryID) string {
	return fmt.Sprintf("arn:aws:ecr-public::%s:registry/%s", account, account)
}

// EnsurePublicRegistry creates the account's public registry with the alias,
// or gives an existing one that alias. It is configuration, run at startup
// for every account ecrd serves, not an API operation.
func (r *Registry) EnsurePublicRegistry(ctx context.Context, account RegistryID, alias string) (PublicRegistry, error) {
	if _, err := ParseRegistryID(string(account)); err != nil {
		return PublicRegistry{}, fmt.Errorf("account %q is not a 12-digit account ID", account)
	}
	if _, err := ParseRegistryAlias(alias); err != nil {
		return PublicRegistry{}, errors.New(messageOf(err))
	}
	var p PublicRegistry
	err := r.meta.Update(ctx, func(tx Tx) error {
		var err error
		p, err = tx.PublicRegistry(account)
		switch {
		case errors.Is(err, ErrNotFound):
			p = PublicRegistry{Account: account, CreatedAt: r.now().UTC()}
		case err != nil:
			return err
		case p.Alias == alias:
			return nil
		}
		p.Alias = alias
		return tx.PutPublicRegistry(p)
	})
	if errors.Is(err, ErrExists) {
		return PublicRegistry{}, fmt.Errorf("the public registry alias %q belongs to another account", alias)
	}
	return p, err
}

// CallerPublicRegistry returns the caller's public registry.
// Errors: RegistryNotFound.
func (r *Registry) CallerPublicRegistry(ctx context.Context) (PublicRegistry, error) {
	return r.FindPublicRegistry(ctx, "")
}

// FindPublicRegistry returns the public registry that idOrAlias names, an
// account ID or a registry alias (as the ECR Public API's registryId does);
// the caller's when it is empty. Errors: RegistryNotFound.
func (r *Registry) FindPublicRegistry(ctx context.Context, idOrAlias string) (PublicRegistry, error) {
	var p PublicRegistry
	err := r.meta.View(ctx, func(tx Tx) error {
		var err error
		switch {
		case idOrAlias == "":
			caller := Caller(ctx).Account
			if caller == "" {
				return ErrNotFound
			}
			p, err = tx.PublicRegistry(caller)
		case registryIDPattern.MatchString(idOrAlias):
			p, err = tx.PublicRegistry(RegistryID(idOrAlias))
		default:
			p, err = tx.PublicRegistryByAlias(idOrAlias)
		}
		return err
	})
	if errors.Is(err, ErrNotFound) {
		name := idOrAlias
		if name == "" {
			name = string(Caller(ctx).Account)
		}
		return PublicRegistry{}, Errorf(CodeRegistryNotFound, "The registry with id or alias '%s' does not exist", name)
	}
	return p, err
}

// PublicRegistryByAlias returns the public registry with the alias, as
// public repository URIs name it; anyone may look it up, as the alias is
// in every one of its URIs. Errors: RegistryNotFound.
func (r *Registry) PublicRegistryByAlias(ctx context.Context, alias string) (PublicRegistry, error) {
	var p PublicRegistry
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		p, err = tx.PublicRegistryByAlias(alias)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return p, Errorf(CodeRegistryNotFound, "No public registry has the alias '%s'", alias)
	}
	return p, err
}

// maxDisplayName is RegistryDisplayName's maximum length.
const maxDisplayName = 100

// PutRegistryDisplayName sets the caller's public registry's display name
// (its catalog data). Errors: RegistryNotFound, InvalidParameter,
// AccessDenied.
func (r *Registry) PutRegistryDisplayName(ctx context.Context, name string) (PublicRegistry, error) {
	if len([]rune(name)) > maxDisplayName {
		return PublicRegistry{}, Errorf(CodeInvalidParameter, "Invalid parameter at 'displayName' failed to satisfy constraint: 'must have length less than or equal to %d'", maxDisplayName)
	}
	p, err := r.CallerPublicRegistry(ctx)
	if err != nil {
		return p, err
	}
	if err := r.evaluate(ctx, "ecr-public", "PutRegistryCatalogData", PublicRegistryARN(p.Account), p.Account, nil, "", "", nil); err != nil {
		return p, err
	}
	account := p.Account
	// fn may run more than once: it reads and writes only its own copy.
	err = r.meta.Update(ctx, func(tx Tx) error {
		cur, err := tx.PublicRegistry(account)
		if err != nil {
			return err
		}
		cur.DisplayName = name
		p = cur
		return tx.PutPublicRegistry(cur)
	})
	return p, err
}

// messageOf is the message of a domain error, or the error's text.
func messageOf(err error) string {
	var de *Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
