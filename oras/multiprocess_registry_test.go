package oras_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// TestRegistryManyProcesses has ten processes attach ten attestations each to one subject in
// one repository, on registries with and without the referrers API: every acknowledged
// attestation must be listed, both by a new Store and, where the registry has no referrers
// API, in the referrers tag index itself, as other clients read it.
func TestRegistryManyProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	type registry struct {
		name string
		host func(t testing.TB) string
	}
	for _, reg := range []registry{
		{"olareg", testenv.OlaregServer},
		{"ggcr", testenv.GGCRServer},
		{"distribution-program", testenv.Distribution},
		{"olareg-program", testenv.Olareg},
	} {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.host(t)
			ctx := t.Context()
			repo := "multi/" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + strconv.Itoa(rand.IntN(1e6))
			s := remoteStore(t, host, repo)
			subject := pushImage(t, s.Target(), "img", "v1")
			const procs, each = 10, 10
			acks := runWriters(t, "remote="+host+"/"+repo, subject, procs, each)
			if len(acks) != procs*each {
				t.Errorf("writers acknowledged %d of %d attestations", len(acks), procs*each)
			}
			refs, err := remoteStore(t, host, repo).Referrers(ctx, subject, "")
			if err != nil {
				t.Fatal(err)
			}
			found := countListed(acks, refs)
			t.Logf("%d processes x %d attestations: %d of %d acknowledged listed", procs, each, found, len(acks))
			if found != len(acks) {
				t.Errorf("a new Store lists %d of %d acknowledged attestations", found, len(acks))
			}
			raw := rawReferrers(t, host, repo, subject)
			if n := countListed(acks, raw); n != len(acks) {
				t.Errorf("the registry's own listing holds %d of %d acknowledged attestations", n, len(acks))
			}
		})
	}
}

// rawReferrers lists subject's referrers with oras-go alone, as another client would.
func rawReferrers(t *testing.T, host, repo string, subject ocispec.Descriptor) []ocispec.Descriptor {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	var out []ocispec.Descriptor
	if err := r.Referrers(t.Context(), subject, "", func(page []ocispec.Descriptor) error {
		out = append(out, page...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRepairRelistsLostReferrers has another client overwrite the referrers tag index with a
// copy that lost attestations, as a concurrent writer does: Repair lists them again, in the
// index itself, and says which; a listing of the subject by a Store repairs the same way.
//
// Behind unsortedTags the registry lists tags as distribution 2.8 does, ignoring last and in
// no order, with the image's own tag first.
func TestRepairRelistsLostReferrers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		viaListing bool
		unsorted   bool
	}{{"Repair", false, false}, {"Referrers", true, false}, {"Repair/unsorted-tags", false, true}, {"Referrers/unsorted-tags", true, true}} {
		viaListing := tc.viaListing
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			host := testenv.GGCRServer(t)
			if tc.unsorted {
				host = unsortedTags(t, host)
			}
			s := remoteStore(t, host, "repair/img")
			subject := pushImage(t, s.Target(), "img", "v1")
			var attached []ocispec.Descriptor
			for i := range 4 {
				d, err := s.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i))
				if err != nil {
					t.Fatal(err)
				}
				attached = append(attached, d)
			}
			// A stale writer puts back the index as it was with the first attestation only.
			raw := rawReferrers(t, host, "repair/img", subject)
			stale := ocispec.Index{Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex,
				Manifests: slices.DeleteFunc(raw, func(d ocispec.Descriptor) bool { return d.Digest != attached[0].Digest })}
			data, err := json.Marshal(stale)
			if err != nil {
				t.Fatal(err)
			}
			r, err := remote.NewRepository(host + "/repair/img")
			if err != nil {
				t.Fatal(err)
			}
			r.PlainHTTP = true
			desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageIndex, data)
			if err := r.Manifests().PushReference(ctx, desc, bytes.NewReader(data), "sha256-"+subject.Digest.Encoded()); err != nil {
				t.Fatal(err)
			}
			if n := countListed(digests(attached), rawReferrers(t, host, "repair/img", subject)); n != 1 {
				t.Fatalf("after the stale write the index lists %d of %d", n, len(attached))
			}
			fresh := remoteStore(t, host, "repair/img")
			if viaListing {
				refs, err := fresh.Referrers(ctx, subject, "")
				if err != nil {
					t.Fatal(err)
				}
				if n := countListed(digests(attached), refs); n != len(attached) {
					t.Errorf("Referrers lists %d of %d", n, len(attached))
				}
			} else {
				got, err := fresh.Repair(ctx, subject)
				if err != nil {
					t.Fatal(err)
				}
				if n := countListed(digests(attached[1:]), got); n != 3 || len(got) != 3 {
					t.Errorf("Repair re-listed %v, want the 3 lost attestations", digests(got))
				}
				again, err := fresh.Repair(ctx, subject)
				if err != nil || len(again) != 0 {
					t.Errorf("second Repair = %v, %v; want nothing to do", digests(again), err)
				}
			}
			if n := countListed(digests(attached), rawReferrers(t, host, "repair/img", subject)); n != len(attached) {
				t.Errorf("after the repair the index lists %d of %d", n, len(attached))
			}
		})
	}
}

func digests(ds []ocispec.Descriptor) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Digest.String()
	}
	return out
}

// TestRecordOfAnotherSubjectIgnored pushes, under a record tag of one image, attestation
// manifests that are not that image's: one about another image, one whose digest the tag does
// not name. Neither listing nor Repair may list them as the image's referrers.
func TestRecordOfAnotherSubjectIgnored(t *testing.T) {
	ctx := t.Context()
	host := testenv.GGCRServer(t)
	s := remoteStore(t, host, "records/img")
	subject := pushImage(t, s.Target(), "img", "v1")
	other := pushImage(t, s.Target(), "other", "v2")
	mine, err := s.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := s.Attach(ctx, other, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 2))
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.NewRepository(host + "/records/img")
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	prefix := "sha256-" + subject.Digest.Encoded() + ".prov-"
	if err := r.Tag(ctx, theirs, prefix+theirs.Digest.Encoded()[:32]); err != nil {
		t.Fatal(err)
	}
	if err := r.Tag(ctx, mine, prefix+strings.Repeat("0", 32)); err != nil {
		t.Fatal(err)
	}
	refs, err := remoteStore(t, host, "records/img").Referrers(ctx, subject, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := digests(refs); len(got) != 1 || got[0] != mine.Digest.String() {
		t.Errorf("Referrers = %v, want only %s", got, mine.Digest)
	}
	if got, err := remoteStore(t, host, "records/img").Repair(ctx, subject); err != nil || len(got) != 0 {
		t.Errorf("Repair = %v, %v; want nothing", digests(got), err)
	}
}

// unsortedTags puts a proxy in front of the registry at host that answers tag listings as
// distribution 2.8 does: every tag, whatever last asks, in reverse order with "v1" first.
func unsortedTags(t *testing.T, host string) string {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: host}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		if strings.HasSuffix(r.Out.URL.Path, "/tags/list") {
			r.Out.URL.RawQuery = ""
		}
	}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.URL.Path, "/tags/list") || resp.StatusCode != http.StatusOK {
			return nil
		}
		var list struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		err := json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			return err
		}
		slices.Reverse(list.Tags)
		if i := slices.Index(list.Tags, "v1"); i > 0 {
			list.Tags = append([]string{"v1"}, slices.Delete(list.Tags, i, i+1)...)
		}
		data, err := json.Marshal(list)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		resp.ContentLength = int64(len(data))
		resp.Header.Set("Content-Length", strconv.Itoa(len(data)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
