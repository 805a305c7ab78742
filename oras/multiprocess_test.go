package oras_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// The multi-process tests re-run this test binary as a helper: the environment variable
// helperEnv selects the helper's mode, and the others say what it works on.
const (
	helperEnv        = "PROVKIT_ORAS_HELPER"
	helperStoreEnv   = "PROVKIT_ORAS_HELPER_STORE"   // "layout=DIR" or "remote=HOST/REPO"
	helperSubjectEnv = "PROVKIT_ORAS_HELPER_SUBJECT" // the subject descriptor as JSON
	helperCountEnv   = "PROVKIT_ORAS_HELPER_COUNT"   // attestations to attach; 0 attaches until killed
	helperWorkerEnv  = "PROVKIT_ORAS_HELPER_WORKER"  // a name that makes the worker's bundles unique
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

// runHelper is the child's side: it attaches attestations and prints "ack DIGEST" on stdout
// once Attach has returned for each.
func runHelper(mode string) int {
	if mode != "attach" {
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 2
	}
	ctx := context.Background()
	s, err := helperStore(ctx, os.Getenv(helperStoreEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var subject ocispec.Descriptor
	if err := json.Unmarshal([]byte(os.Getenv(helperSubjectEnv)), &subject); err != nil {
		fmt.Fprintln(os.Stderr, "subject:", err)
		return 1
	}
	count, _ := strconv.Atoi(os.Getenv(helperCountEnv))
	worker := os.Getenv(helperWorkerEnv)
	out := bufio.NewWriter(os.Stdout)
	for i := 0; count == 0 || i < count; i++ {
		b := provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, PredicateType: provenance.PredicateSLSAProvenanceV1,
			Data: fmt.Appendf(nil, `{"worker":%q,"n":%d,"pid":%d}`, worker, i, os.Getpid())}
		desc, err := s.Attach(ctx, subject, b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "attach %d: %v\n", i, err)
			return 1
		}
		fmt.Fprintf(out, "ack %s\n", desc.Digest)
		if err := out.Flush(); err != nil {
			return 1
		}
	}
	return 0
}

func helperStore(ctx context.Context, spec string) (*provoras.Store, error) {
	kind, where, _ := strings.Cut(spec, "=")
	switch kind {
	case "layout":
		return provoras.NewLayout(ctx, where)
	case "remote":
		return provoras.NewRemote(where, provoras.WithPlainHTTPUnsafe())
	}
	return nil, fmt.Errorf("unknown helper store %q", spec)
}

// helperCmd makes the command that runs this test binary as an attaching helper.
func helperCmd(t *testing.T, store string, subject ocispec.Descriptor, worker string, count int) *exec.Cmd {
	t.Helper()
	sub, err := json.Marshal(subject)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=attach", helperStoreEnv+"="+store, helperSubjectEnv+"="+string(sub),
		helperCountEnv+"="+strconv.Itoa(count), helperWorkerEnv+"="+worker)
	return cmd
}

// readAcks collects the digests a helper acknowledged on r until r ends.
func readAcks(r io.Reader) []string {
	var acks []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acks = append(acks, d)
		}
	}
	return acks
}

// runWriters runs procs helper processes attaching each attestations to subject at once and
// returns every digest they acknowledged.
func runWriters(t *testing.T, store string, subject ocispec.Descriptor, procs, each int) []string {
	t.Helper()
	var mu sync.Mutex
	var acks []string
	var wg sync.WaitGroup
	for p := range procs {
		cmd := helperCmd(t, store, subject, "w"+strconv.Itoa(p), each)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			got := readAcks(stdout)
			if err := cmd.Wait(); err != nil {
				t.Errorf("writer %d: %v\n%s", p, err, stderr.String())
			}
			mu.Lock()
			acks = append(acks, got...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return acks
}

// countListed says how many of acks are among listed.
func countListed(acks []string, listed []ocispec.Descriptor) int {
	in := map[string]bool{}
	for _, d := range listed {
		in[d.Digest.String()] = true
	}
	n := 0
	for _, a := range acks {
		if in[a] {
			n++
		}
	}
	return n
}

// TestLayoutManyProcesses has three processes attach 30 attestations each to one subject of
// one OCI layout while this process reads it with a Store opened before they started: every
// acknowledged attestation must be listed, by that long-lived Store and by a new one, and no
// read may fail on a half-written index.json.
func TestLayoutManyProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	ctx := t.Context()
	dir := t.TempDir()
	s, err := provoras.NewLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	subject := pushImage(t, s.Target(), "layout", "v1")
	if _, err := s.Referrers(ctx, subject, ""); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	readErrs := make(chan error, 1)
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := provoras.NewLayout(ctx, dir)
			if err == nil {
				_, err = r.Referrers(ctx, subject, "")
			}
			if err != nil {
				select {
				case readErrs <- err:
				default:
				}
				return
			}
		}
	})
	const procs, each = 3, 30
	acks := runWriters(t, "layout="+dir, subject, procs, each)
	close(stop)
	readers.Wait()
	select {
	case err := <-readErrs:
		t.Errorf("a reader failed while the writers wrote: %v", err)
	default:
	}
	if len(acks) != procs*each {
		t.Errorf("writers acknowledged %d of %d attestations", len(acks), procs*each)
	}
	for name, store := range map[string]*provoras.Store{"long-lived store": s, "new store": mustLayout(t, dir)} {
		refs, err := store.Referrers(ctx, subject, "")
		if err != nil {
			t.Fatal(err)
		}
		found := countListed(acks, refs)
		t.Logf("%s: %d processes x %d attestations: %d of %d acknowledged listed", name, procs, each, found, len(acks))
		if found != len(acks) {
			t.Errorf("%s lists %d of %d acknowledged attestations", name, found, len(acks))
		}
	}
}

func mustLayout(t *testing.T, dir string) *provoras.Store {
	t.Helper()
	s, err := provoras.NewLayout(t.Context(), dir)
	if err != nil {
		t.Fatalf("open layout %s: %v", dir, err)
	}
	return s
}

// TestLayoutSurvivesKill kills a process attaching to a layout in a loop at random points, 50
// times: the layout must still open and list every attestation the process acknowledged.
func TestLayoutSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	ctx := t.Context()
	dir := t.TempDir()
	s := mustLayout(t, dir)
	subject := pushImage(t, s.Target(), "layout", "v1")
	var acks []string
	midWrite := 0 // kills that left a temporary index file: the child was writing index.json
	const kills = 50
	for i := range kills {
		cmd := helperCmd(t, "layout="+dir, subject, "k"+strconv.Itoa(i), 0)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []string, 1)
		first := make(chan struct{})
		go func() {
			var got []string
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
					if got == nil {
						close(first)
					}
					got = append(got, d)
				}
			}
			lines <- got
		}()
		select {
		case <-first:
		case <-time.After(30 * time.Second):
			t.Fatal("helper acknowledged nothing in 30 s")
		}
		time.Sleep(time.Duration(rand.IntN(40_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		acks = append(acks, <-lines...)
		if left, _ := filepath.Glob(filepath.Join(dir, ".index.json-*")); len(left) > 0 {
			midWrite++
		}
		if _, err := provoras.NewLayout(ctx, dir); err != nil {
			t.Fatalf("after kill %d the layout does not open: %v", i+1, err)
		}
	}
	after := mustLayout(t, dir)
	refs, err := after.Referrers(ctx, subject, "")
	if err != nil {
		t.Fatal(err)
	}
	// The next write clears the temporary index files killed writers left.
	t.Logf("%d of %d kills landed while index.json was being written", midWrite, kills)
	if err := after.Target().Tag(ctx, subject, "after-kills"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".index.json-*")); len(left) != 0 {
		t.Errorf("temporary index files left after a write: %v", left)
	}
	found := countListed(acks, refs)
	t.Logf("%d kills: %d of %d acknowledged attestations listed", kills, found, len(acks))
	if found != len(acks) {
		t.Errorf("%d of %d acknowledged attestations listed after %d kills", found, len(acks), kills)
	}
}

// TestLayoutRepair rewrites index.json as a tool holding a stale copy of it does, listing the
// image but none of its attestations: Repair finds the attestation manifests among the blobs
// and lists them again, once.
func TestLayoutRepair(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := mustLayout(t, dir)
	subject := pushImage(t, s.Target(), "layout", "v1")
	var attached []ocispec.Descriptor
	for i := range 3 {
		d, err := s.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i))
		if err != nil {
			t.Fatal(err)
		}
		attached = append(attached, d)
	}
	idx := ocispec.Index{Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size,
			Annotations: map[string]string{ocispec.AnnotationRefName: "v1"}}}}
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if refs, err := s.Referrers(ctx, subject, ""); err != nil || len(refs) != 0 {
		t.Fatalf("after the stale rewrite Referrers = %d, %v; want none", len(refs), err)
	}
	got, err := mustLayout(t, dir).Repair(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	if n := countListed(digests(attached), got); n != len(attached) || len(got) != len(attached) {
		t.Fatalf("Repair re-listed %v, want %v", digests(got), digests(attached))
	}
	refs, err := s.Referrers(ctx, subject, "")
	if err != nil || countListed(digests(attached), refs) != len(attached) {
		t.Fatalf("after Repair Referrers = %v, %v", digests(refs), err)
	}
	if again, err := s.Repair(ctx, subject); err != nil || len(again) != 0 {
		t.Fatalf("second Repair = %v, %v; want nothing", digests(again), err)
	}
	if d, err := s.Resolve(ctx, "v1"); err != nil || d.Digest != subject.Digest {
		t.Fatalf("Resolve(v1) = %s, %v", d.Digest, err)
	}
}
