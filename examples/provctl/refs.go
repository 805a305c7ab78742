package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/oras"
)

// reference is a parsed REF: a registry repository or an OCI layout folder, and a tag or digest.
type reference struct {
	// layout says Name is an OCI layout folder rather than host[:port]/repo.
	layout bool
	// name is host[:port]/repo, or the layout's path.
	name string
	// tag is the tag, or "" when the reference has a digest.
	tag string
	// digest is the digest, or "" when the reference has a tag.
	digest digest.Digest
	// defaulted says the reference named neither tag nor digest, so tag is "latest".
	defaulted bool
}

// ref returns the tag or digest, as Resolve takes it.
func (r reference) ref() string {
	if r.digest != "" {
		return r.digest.String()
	}
	return r.tag
}

// String returns the reference as the user would write it.
func (r reference) String() string {
	if r.digest != "" {
		return r.name + "@" + r.digest.String()
	}
	return r.name + ":" + r.tag
}

// parseReference parses host[:port]/repo[:tag|@digest], or with layout PATH[:tag|@digest], with
// oras.ParseReference (which also reads oci-layout:PATH and layout paths without the flag). A
// reference with neither tag nor digest means the tag "latest", as cosign and docker read it;
// with both, the digest is what is resolved.
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
	r := reference{layout: p.Layout != "", name: p.Layout, tag: p.Tag, digest: p.Digest}
	if !r.layout {
		r.name = p.Registry + "/" + p.Repository
	}
	if r.digest != "" {
		r.tag = ""
	} else if r.tag == "" {
		r.tag, r.defaulted = "latest", true
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
	if r.layout {
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
