package registry

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
)

// RegistryID names a registry. An account's private registry is named by
// the 12-digit account ID itself (in ECR the two are the same thing); its
// ECR Public registry by PublicRegistryOf(account), an ID no wire value can
// spell, so that the two namespaces never meet in the stores.
type RegistryID string

// publicPrefix marks the ID of a public registry.
const publicPrefix = "public:"

// PublicRegistryOf returns the ID of the account's public registry.
func PublicRegistryOf(account RegistryID) RegistryID {
	return RegistryID(publicPrefix) + account.Account()
}

// IsPublic reports whether id names a public registry.
func (id RegistryID) IsPublic() bool { return strings.HasPrefix(string(id), publicPrefix) }

// Account returns the account that owns the registry: what the wire calls
// its registryId.
func (id RegistryID) Account() RegistryID {
	return RegistryID(strings.TrimPrefix(string(id), publicPrefix))
}

var registryIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// ParseRegistryID checks s against the model's RegistryId pattern.
func ParseRegistryID(s string) (RegistryID, error) {
	if !registryIDPattern.MatchString(s) {
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''")
	}
	return RegistryID(s), nil
}

// RepositoryName is a validated ECR repository name: 2..256 characters of
// lower-case path components separated by '/'.
type RepositoryName string

// repositoryNamePattern is the ECR model's RepositoryName pattern, anchored:
// ECR matches the whole name, not a substring ("Team/App" is refused).
const repositoryNamePattern = `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`

var repositoryNameRE = regexp.MustCompile(`^(?:` + repositoryNamePattern + `)$`)

// ParseRepositoryName validates s as a repository name.
func ParseRepositoryName(s string) (RepositoryName, error) {
	switch {
	case len(s) < 2:
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'")
	case len(s) > 256:
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length less than or equal to 256'")
	case !repositoryNameRE.MatchString(s):
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '%s''", repositoryNamePattern)
	}
	return RepositoryName(s), nil
}

// RepoKey identifies one repository. An empty Registry means the caller's
// own registry.
type RepoKey struct {
	Registry RegistryID
	Name     RepositoryName
}

// UploadID identifies a layer upload: a lower-case UUID.
type UploadID string

var uploadIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseUploadID validates s against the model's UploadId pattern. Upper-case
// input is folded, since IDs are issued in lower case.
func ParseUploadID(s string) (UploadID, error) {
	if !uploadIDPattern.MatchString(s) {
		return "", Errorf(CodeInvalidParameter, "Invalid parameter at 'uploadId' failed to satisfy constraint: 'must satisfy regular expression '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}''")
	}
	return UploadID(strings.ToLower(s)), nil
}

// NewUploadID returns a random version 4 UUID.
func NewUploadID() UploadID {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on Linux; a broken kernel RNG is not
		// something a registry can recover from.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return UploadID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}
