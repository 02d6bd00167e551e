// Package registry is ecrd's domain core: repositories, layer uploads and
// layer availability, with the rules ECR applies to them. Every protocol
// front end (the ECR JSON API, later ECR Public and OCI /v2/) calls it; it
// sees storage only through the MetaStore and BlobStore interfaces and
// imports no HTTP, SQL or AWS SDK package.
package registry
