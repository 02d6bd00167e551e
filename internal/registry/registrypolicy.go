package registry

import (
	"context"
	"errors"
)

// RegistryPolicyTx keeps each private registry's permissions policy.
type RegistryPolicyTx interface {
	// RegistryPolicy returns the registry's policy text, or ErrNotFound.
	RegistryPolicy(reg RegistryID) (string, error)
	// PutRegistryPolicy creates or replaces the registry's policy.
	PutRegistryPolicy(reg RegistryID, text string) error
	// DeleteRegistryPolicy removes the registry's policy, or returns
	// ErrNotFound.
	DeleteRegistryPolicy(reg RegistryID) error
}

// A registry's policy is evaluated with each of its repositories'
// policies (access.go: ECR's REGISTRY_POLICY_SCOPE V2, its default), and
// grants other accounts replication and pull through cache rights once
// ecrd has them. These operations act on the caller's own private
// registry: the API names no other.

// RegistryPolicy returns the caller's registry and its policy.
// Errors: RegistryPolicyNotFound.
func (r *Registry) RegistryPolicy(ctx context.Context) (RegistryID, string, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "GetRegistryPolicy"); err != nil {
		return reg, "", err
	}
	var text string
	err := r.meta.View(ctx, func(tx Tx) error {
		var err error
		text, err = tx.RegistryPolicy(reg)
		if errors.Is(err, ErrNotFound) {
			return registryPolicyNotFound(reg)
		}
		return err
	})
	return reg, text, err
}

// PutRegistryPolicy sets the caller's registry's policy.
// Errors: InvalidParameter, AccessDenied.
func (r *Registry) PutRegistryPolicy(ctx context.Context, text string) (RegistryID, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "PutRegistryPolicy"); err != nil {
		return reg, err
	}
	if err := r.checkPolicy("registry", "ecr", text); err != nil {
		return reg, err
	}
	return reg, r.meta.Update(ctx, func(tx Tx) error { return tx.PutRegistryPolicy(reg, text) })
}

// DeleteRegistryPolicy removes the caller's registry's policy and returns
// it. Errors: RegistryPolicyNotFound, AccessDenied.
func (r *Registry) DeleteRegistryPolicy(ctx context.Context) (RegistryID, string, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "DeleteRegistryPolicy"); err != nil {
		return reg, "", err
	}
	var text string
	err := r.meta.Update(ctx, func(tx Tx) error {
		var err error
		text, err = tx.RegistryPolicy(reg)
		if errors.Is(err, ErrNotFound) {
			return registryPolicyNotFound(reg)
		} else if err != nil {
			return err
		}
		return tx.DeleteRegistryPolicy(reg)
	})
	return reg, text, err
}

func registryPolicyNotFound(reg RegistryID) *Error {
	return Errorf(CodeRegistryPolicyNotFound, "Registry policy does not exist in the registry with id '%s'", reg)
}
