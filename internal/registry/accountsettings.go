package registry

import (
	"context"
	"errors"
	"slices"
)

// Account settings are a private registry's switches ECR keeps by name,
// each with the values it takes and the default a registry that never set
// it has.
const (
	SettingBasicScanType       = "BASIC_SCAN_TYPE_VERSION"
	SettingRegistryPolicyScope = "REGISTRY_POLICY_SCOPE"
	SettingBlobMounting        = "BLOB_MOUNTING"
)

// accountSettings are the names, their values (the default first).
var accountSettings = map[string][]string{
	// The basic scanner's engine: ecrd has one, its own, reporting as the
	// engine set does (scanning.go asEngine; CLAIR: CVSS v2 attributes only).
	SettingBasicScanType: {"AWS_NATIVE", "CLAIR"},
	// V2: the registry policy is evaluated with every action's resource
	// policy; V1: only for ReplicateImage, BatchImportUpstreamImage and
	// CreateRepository (access.go).
	SettingRegistryPolicyScope: {"V2", "V1"},
	// ENABLED: a /v2/ mount from another repository of the registry
	// links the blob (201); DISABLED: it is an upload like any other (202).
	SettingBlobMounting: {"DISABLED", "ENABLED"},
}

// v1Actions are the actions a V1 registry policy still decides.
var v1Actions = map[string]bool{"ReplicateImage": true, "BatchImportUpstreamImage": true, "CreateRepository": true}

// AccountSettingTx keeps each private registry's account settings.
type AccountSettingTx interface {
	// AccountSetting returns a setting's value, or ErrNotFound when the
	// registry never set it.
	AccountSetting(reg RegistryID, name string) (string, error)
	// PutAccountSetting sets a setting.
	PutAccountSetting(reg RegistryID, name, value string) error
}

func checkSettingName(name string) error {
	if _, ok := accountSettings[name]; !ok {
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'name' failed to satisfy constraint: 'must be one of BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING'")
	}
	return nil
}

// accountSetting is a setting's value in tx, its default when unset.
func accountSetting(tx Tx, reg RegistryID, name string) (string, error) {
	v, err := tx.AccountSetting(reg, name)
	if errors.Is(err, ErrNotFound) {
		return accountSettings[name][0], nil
	}
	return v, err
}

// AccountSetting returns the caller's registry's setting of name.
// Errors: InvalidParameter, AccessDenied.
func (r *Registry) AccountSetting(ctx context.Context, name string) (string, error) {
	if err := checkSettingName(name); err != nil {
		return "", err
	}
	if err := r.authorizeRegistry(ctx, "GetAccountSetting"); err != nil {
		return "", err
	}
	var v string
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		v, err = accountSetting(tx, Caller(ctx).Account, name)
		return err
	})
	return v, err
}

// PutAccountSetting sets the caller's registry's setting of name.
// Errors: InvalidParameter, AccessDenied.
func (r *Registry) PutAccountSetting(ctx context.Context, name, value string) error {
	if err := checkSettingName(name); err != nil {
		return err
	}
	if !slices.Contains(accountSettings[name], value) {
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'value' failed to satisfy constraint: 'the setting %s takes one of %v'", name, accountSettings[name])
	}
	if err := r.authorizeRegistry(ctx, "PutAccountSetting"); err != nil {
		return err
	}
	return r.meta.Update(ctx, func(tx Tx) error { return tx.PutAccountSetting(Caller(ctx).Account, name, value) })
}
