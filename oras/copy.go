package oras

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Copy copies the image srcRef names in src to dst, tagged dstRef (srcRef when dstRef is
// empty), with its whole referrer graph: attestations, their signatures and anything else that
// refers to it, at any depth (oras-go's ExtendedCopy), plus cosign's legacy ".att" and ".sig"
// tags. Copying into an OCI layout (NewLayout) makes an evidence pack that Discover and Fetch
// read with no network. Referrer listings are bounded as in Referrers. It returns the
// descriptor of the copied image.
//
// Into a registry, Copy keeps the referrers as Attach does: each referrer is pushed by its
// record tag, and once everything is copied each subject's listing is settled (every copied
// referrer listed, re-listing what concurrent pushes lost) before Copy returns. Uploads that a
// registry refuses with 429 or a 5xx status are retried with backoff, up to the destination
// Store's attempts (WithAttempts), reading the content from src again.
func Copy(ctx context.Context, src *Store, srcRef string, dst *Store, dstRef string) (ocispec.Descriptor, error) {
	if src == nil || dst == nil {
		return ocispec.Descriptor{}, &InputError{What: "store", Reason: "is nil"}
	}
	if err := dst.writable("copy " + srcRef + " into it"); err != nil {
		return ocispec.Descriptor{}, err
	}
	if dstRef == "" {
		dstRef = srcRef
	}
	root, err := src.Resolve(ctx, srcRef)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cd := &copyDest{GraphTarget: dst.target, src: src, dst: dst, subjects: map[digest.Digest]ocispec.Descriptor{}}
	opts := orasgo.ExtendedCopyOptions{ExtendedCopyGraphOptions: orasgo.ExtendedCopyGraphOptions{
		CopyGraphOptions: orasgo.CopyGraphOptions{Concurrency: src.o.concurrency},
		FindPredecessors: func(ctx context.Context, _ content.ReadOnlyGraphStorage, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			if !isManifest(desc.MediaType) && !isIndex(desc.MediaType) {
				return nil, nil
			}
			refs, _, err := src.referrers(ctx, desc, "")
			if errors.Is(err, provenance.ErrNotFound) {
				return nil, nil
			}
			cd.noteReferrers(desc, refs)
			return refs, err
		},
	}}
	desc, err := orasgo.ExtendedCopy(ctx, src.target, srcRef, cd, dstRef, opts)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("oras: copy %s with its referrers: %w", srcRef, err)
	}
	if err := cd.settle(ctx); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("oras: copy %s with its referrers: %w", srcRef, err)
	}
	for _, suffix := range []string{".att", ".sig"} {
		tag := root.Digest.Algorithm().String() + "-" + root.Digest.Encoded() + suffix
		if _, err := src.target.Resolve(ctx, tag); errors.Is(err, errdef.ErrNotFound) {
			continue
		} else if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("oras: resolve cosign tag %s: %w", tag, err)
		}
		if _, err := orasgo.Copy(ctx, src.target, tag, cd, tag, orasgo.CopyOptions{}); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("oras: copy cosign tag %s: %w", tag, err)
		}
	}
	return desc, nil
}

// copyDest is the destination of a Copy: it pushes referrer manifests to a registry by their
// record tags without oras-go's referrers tag index update, retries refused uploads, and
// settles each subject's listing at the end.
type copyDest struct {
	orasgo.GraphTarget
	src, dst *Store

	mu       sync.Mutex
	subjects map[digest.Digest]ocispec.Descriptor // referrer -> its subject
	order    []ocispec.Descriptor                 // subjects with referrers, in the order found
}

func (c *copyDest) noteReferrers(subject ocispec.Descriptor, refs []ocispec.Descriptor) {
	if len(refs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	plain := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	c.order = append(c.order, plain)
	for _, r := range refs {
		c.subjects[r.Digest] = plain
	}
}

// Push copies one node, retrying what the registry refuses for a while.
func (c *copyDest) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if c.dst.repo != nil && (isManifest(desc.MediaType) || isIndex(desc.MediaType)) {
		data, err := readVerified(io.NopCloser(r), desc, "manifest", provenance.MaxManifestBytes)
		if err != nil {
			return err
		}
		c.mu.Lock()
		subject, isReferrer := c.subjects[desc.Digest]
		c.mu.Unlock()
		return c.retry(ctx, desc, func() error {
			if isReferrer {
				return c.dst.pushManifest(ctx, subject.Digest, desc, data)
			}
			err := c.dst.pushRepo.Manifests().Push(ctx, desc, bytes.NewReader(data))
			if errors.Is(err, errdef.ErrAlreadyExists) {
				return nil
			}
			return err
		})
	}
	first := true
	return c.retry(ctx, desc, func() error {
		if first {
			first = false
			return c.GraphTarget.Push(ctx, desc, r)
		}
		rc, err := c.src.target.Fetch(ctx, desc)
		if err != nil {
			return err
		}
		defer rc.Close()
		return c.GraphTarget.Push(ctx, desc, rc)
	})
}

// retry runs push until it succeeds, fails for a reason other than a refusal, or the
// destination Store's attempts are spent.
func (c *copyDest) retry(ctx context.Context, desc ocispec.Descriptor, push func() error) error {
	for attempt := 1; ; attempt++ {
		err := push()
		if err == nil || attempt >= c.dst.o.attempts || !refused(err) {
			return err
		}
		wait := c.dst.o.retryBase << min(attempt-1, 6)
		wait = wait/2 + rand.N(wait)
		c.dst.o.logger.WarnContext(ctx, "upload refused; trying again", "digest", desc.Digest, "attempt", attempt, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// refused reports whether a registry answered 429 or a 5xx status: worth trying again.
func refused(err error) bool {
	var er *errcode.ErrorResponse
	return errors.As(err, &er) && (er.StatusCode == http.StatusTooManyRequests || er.StatusCode >= 500)
}

// settle makes every subject's listing in a registry hold the referrers copied to it, under
// the same per-subject turn-taking as Attach.
func (c *copyDest) settle(ctx context.Context) error {
	if c.dst.repo == nil {
		return nil
	}
	done := map[digest.Digest]bool{}
	for _, subject := range c.order {
		if done[subject.Digest] {
			continue
		}
		done[subject.Digest] = true
		mu := subjectLock(c.dst.lock + "@" + subject.Digest.String())
		mu.Lock()
		_, err := c.dst.settle(ctx, subject, ocispec.Descriptor{}, nil)
		mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
