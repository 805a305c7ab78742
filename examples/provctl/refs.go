package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/oras"
)

// reference is a parsed REF (oras.ParseReference) and the name provctl prints for it.
type reference struct {
	oras.Reference
	// name is host[:port]/repo, or the layout's path.
	name string
}

// ref returns the tag or digest, as Resolve takes it: the digest when one is named, else the
// tag, else "latest", as cosign and docker read a reference with neither.
func (r reference) ref() string {
	if s := r.TagOrDigest(); s != "" {
		return s
	}
	return "latest"
}

// defaulted says the reference named neither tag nor digest.
func (r reference) defaulted() bool { return r.TagOrDigest() == "" }

// parseReference parses host[:port]/repo[:tag|@digest], or with layout PATH[:tag|@digest], with
// oras.ParseReference (which also reads oci-layout:PATH and layout paths without the flag).
func parseReference(s string, layout bool) (reference, error) {
	if s == "" {
		return reference{}, usagef("empty reference")
	}
	if layout && !strings.HasPrefix(s, oras.LayoutPrefix) {
		s = oras.LayoutPrefix + s
	}
	p, err := oras.ParseReference(s)
	if err != nil {
		return reference{}, usagef("%v", err)
	}
	r := reference{Reference: p, name: p.Layout}
	if p.Layout == "" {
		r.name = p.Registry + "/" + p.Repository
	}
	return r, nil
}

// parseLocation parses a SRC or DST of copy: oci-layout:PATH[:tag|@digest] or a registry reference.
func parseLocation(s string) (reference, error) {
	return parseReference(s, false)
}

// storeOptions are the flags that shape how a Store is opened.
type storeOptions struct {
	plainHTTP bool
	// create allows a new, empty OCI layout to be made; readers refuse a missing one.
	create bool
}

// openStore opens the repository or layout r names.
func openStore(ctx context.Context, r reference, o storeOptions, env map[string]string) (*oras.Store, error) {
	if r.Layout != "" {
		if !o.create {
			if _, err := os.Stat(filepath.Join(r.name, "index.json")); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil, fmt.Errorf("%s is not an OCI layout (no index.json)", r.name)
				}
				return nil, err
			}
		}
		return oras.NewLayout(ctx, r.name)
	}
	var opts []oras.Option
	if o.plainHTTP {
		opts = append(opts, oras.WithPlainHTTPUnsafe())
	}
	if cfg := dockerConfig(env); cfg != "" {
		opts = append(opts, oras.WithDockerConfig(cfg))
	}
	s, err := oras.NewRemote(r.name, opts...)
	return s, configError(err)
}

// dockerConfig returns the Docker config file registry credentials come from, as docker, cosign
// and oras find it: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
func dockerConfig(env map[string]string) string {
	if dir := env["DOCKER_CONFIG"]; dir != "" {
		return filepath.Join(dir, "config.json")
	}
	if home := env["HOME"]; home != "" {
		return filepath.Join(home, ".docker", "config.json")
	}
	return ""
}

// resolve opens the store of r and resolves r to its manifest descriptor.
func resolve(ctx context.Context, r reference, o storeOptions, env map[string]string) (*oras.Store, ocispec.Descriptor, error) {
	s, err := openStore(ctx, r, o, env)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc, err := s.Resolve(ctx, r.ref())
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", r, err)
	}
	return s, desc, nil
}
