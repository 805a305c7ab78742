package rerun_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/rerun"
)

var checkedOn = provenance.FixedClock(time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC))

// needRoot skips a test that chroots when the process is not root (the chroot runner's own
// refusal is tested without root in TestChrootNeedsRoot).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the chroot runner needs root privileges; run the tests as root")
	}
}

// rerunStores are the stores a step is re-run from: an OCI layout and a registry in process.
var rerunStores = []struct {
	name string
	open func(t *testing.T) (*oras.Store, error)
}{
	{"layout", func(t *testing.T) (*oras.Store, error) { return oras.NewLayout(t.Context(), t.TempDir()) }},
	{"registry", func(t *testing.T) (*oras.Store, error) {
		return oras.NewRemote(testenv.OlaregServer(t)+"/rerun/clean", oras.WithPlainHTTPUnsafe())
	}},
}

// TestRunMatches re-runs a verified step in its image, from its inputs fetched by digest, and
// finds the same output: rebuilt from the same inputs.
func TestRunMatches(t *testing.T) {
	needRoot(t)
	for _, st := range rerunStores {
		t.Run(st.name, func(t *testing.T) {
			s, err := st.open(t)
			if err != nil {
				t.Fatal(err)
			}
			r := recordStep(t, s, nil)
			out, err := rerun.Run(t.Context(), r.result, s, s.Target(), rerun.WithDir(t.TempDir()), rerun.WithClock(checkedOn), rerun.WithTimeout(time.Minute))
			if err != nil {
				t.Fatalf("Run: %v\nstderr: %s", err, out.Stderr)
			}
			if !out.Rebuild.Matched() {
				t.Fatalf("rebuild did not match: %v", out.Rebuild.Differences)
			}
			if got := string(out.Stdout); got != "kept 2 rows\n" {
				t.Errorf("stdout = %q", got)
			}
			if !slices.Equal(out.Rebuild.Compared, []string{rebuild.ComparedSubjects, rebuild.ComparedInputs}) {
				t.Errorf("compared %v", out.Rebuild.Compared)
			}
			if want := "rebuilt from the same inputs, and every output matched; outputs compared: 1 file by sha256; inputs compared: 2, each fetched by its digest and used"; out.Rebuild.Summary() != want {
				t.Errorf("summary = %q, want %q", out.Rebuild.Summary(), want)
			}
			if out.Image.Digest != r.image.Digest || len(out.Inputs) != 2 || out.Inputs[1].GetDigest()["sha256"] != r.raw.Encoded() {
				t.Errorf("inputs used: image %s, %v", out.Image.Digest, out.Inputs)
			}
			data, err := os.ReadFile(filepath.Join(out.Dir, "rootfs", "work", "clean.csv"))
			if err != nil || !strings.Contains(string(data), "# mode=strict") {
				t.Errorf("the recorded environment wins over the image's: %q, %v", data, err)
			}
			// The rebuild statement is about the recorded output, and verifies against it once signed.
			stmt, err := out.Rebuild.Statement()
			if err != nil {
				t.Fatal(err)
			}
			if stmt.GetSubject()[0].GetDigest()["sha256"] != r.output.Encoded() {
				t.Errorf("rebuild statement is about %v, not the original output", stmt.GetSubject())
			}
		})
	}
}

// TestRunMismatch re-runs a step whose record claims another output than the command writes:
// a mismatch naming the output, not an error.
func TestRunMismatch(t *testing.T) {
	needRoot(t)
	s, err := oras.NewLayout(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := recordStep(t, s, []byte("id,score\n1,99\n"))
	out, err := rerun.Run(t.Context(), r.result, s, s.Target(), rerun.WithDir(t.TempDir()), rerun.WithClock(checkedOn))
	if err != nil {
		t.Fatal(err)
	}
	if out.Rebuild.Matched() || len(out.Rebuild.Differences) != 1 || out.Rebuild.Differences[0].Field != "subjects[clean.csv]" {
		t.Fatalf("differences = %v, want subjects[clean.csv] only", out.Rebuild.Differences)
	}
	if !errors.Is(out.Rebuild.Err(), rebuild.ErrMismatch) {
		t.Fatal("Err does not report the mismatch")
	}
}

// TestRunFetchErrors re-runs steps whose input is missing from the store, or whose stored
// input or image layer was altered: typed errors, and nothing run.
func TestRunFetchErrors(t *testing.T) {
	needRoot(t)
	ctx := t.Context()
	t.Run("input not stored", func(t *testing.T) {
		s, err := oras.NewLayout(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r := recordStep(t, s, nil)
		empty, err := oras.NewLayout(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		pushStepImage(t, empty.Target())
		ran := false
		_, err = rerun.Run(ctx, r.result, empty, empty.Target(), rerun.WithDir(t.TempDir()),
			rerun.WithRunner(rerun.RunnerFunc(func(_ context.Context, _ *rerun.Command) error { ran = true; return nil })))
		var fe *rerun.FetchError
		if !errors.As(err, &fe) || !errors.Is(err, rerun.ErrNotStored) || fe.Digest != r.raw || ran {
			t.Fatalf("Run = %v, want a *FetchError for %s wrapping ErrNotStored, before running", err, r.raw)
		}
	})
	t.Run("image not stored", func(t *testing.T) {
		s, err := oras.NewLayout(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r := recordStep(t, s, nil)
		other, err := oras.NewLayout(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, err = rerun.Run(ctx, r.result, other, other.Target(), rerun.WithDir(t.TempDir()))
		var fe *rerun.FetchError
		if !errors.As(err, &fe) || !errors.Is(err, rerun.ErrNotStored) || fe.Digest != r.image.Digest {
			t.Fatalf("Run = %v, want a *FetchError for the image wrapping ErrNotStored", err)
		}
	})
	t.Run("input altered in the store", func(t *testing.T) {
		dir := t.TempDir()
		s, err := oras.NewLayout(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		r := recordStep(t, s, nil)
		blob := filepath.Join(dir, "blobs", "sha256", r.raw.Encoded())
		data, err := os.ReadFile(blob)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-2] ^= 1
		if err := os.WriteFile(blob, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = rerun.Run(ctx, r.result, s, s.Target(), rerun.WithDir(t.TempDir()))
		if !errors.Is(err, rerun.ErrIntegrity) {
			t.Fatalf("Run = %v, want ErrIntegrity", err)
		}
	})
	t.Run("image over the limit", func(t *testing.T) {
		s, err := oras.NewLayout(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r := recordStep(t, s, nil)
		_, err = rerun.Run(ctx, r.result, s, s.Target(), rerun.WithDir(t.TempDir()), rerun.WithLimits(1<<10, 100))
		if !errors.Is(err, provenance.ErrTooLarge) {
			t.Fatalf("Run = %v, want provenance.ErrTooLarge", err)
		}
	})
}

// TestRunCommandFails records a command that fails in the image: a *CommandError with its exit
// status and standard error, and no rebuild result.
func TestRunCommandFails(t *testing.T) {
	needRoot(t)
	s, err := oras.NewLayout(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := recordStep(t, s, nil)
	r.step.Command = []string{"step", "--min", "not-a-number", "raw.csv", "clean.csv"}
	manifests, err := s.FileManifests(t.Context(), r.output)
	if err != nil || len(manifests) == 0 {
		t.Fatal(manifests, err)
	}
	r.sign(t, s, manifests[0])
	out, err := rerun.Run(t.Context(), r.result, s, s.Target(), rerun.WithDir(t.TempDir()))
	var ce *rerun.CommandError
	if !errors.As(err, &ce) || !errors.Is(err, rerun.ErrCommand) || ce.ExitCode != 2 || !strings.Contains(ce.Stderr, "invalid syntax") {
		t.Fatalf("Run = %v, want a *CommandError with status 2", err)
	}
	if out == nil || out.Rebuild != nil || !strings.Contains(string(out.Stderr), "invalid syntax") {
		t.Fatalf("outcome = %+v", out)
	}
}

// TestRunTimeout stops a command that runs past WithTimeout.
func TestRunTimeout(t *testing.T) {
	s, err := oras.NewLayout(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := recordStep(t, s, nil)
	slow := rerun.RunnerFunc(func(ctx context.Context, _ *rerun.Command) error {
		<-ctx.Done()
		return &exec.ExitError{}
	})
	_, err = rerun.Run(t.Context(), r.result, s, s.Target(), rerun.WithDir(t.TempDir()), rerun.WithRunner(slow), rerun.WithTimeout(50*time.Millisecond))
	var ce *rerun.CommandError
	if !errors.As(err, &ce) || ce.ExitCode != -1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want a *CommandError for the time out", err)
	}
}

// TestStepFromResultRejects refuses verified statements that are not re-runnable steps.
func TestStepFromResultRejects(t *testing.T) {
	s, err := oras.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	r := recordStep(t, s, nil)
	step, err := rerun.StepFromResult(r.result)
	if err != nil {
		t.Fatal(err)
	}
	if step.Name != "clean" || step.ImageDigest != r.image.Digest || len(step.Inputs) != 1 || step.Inputs[0].Path != "raw.csv" ||
		step.Outputs[0].Path != "clean.csv" || step.Environment["CLEAN_MODE"] != "strict" || step.Parameters["min"] != -40.0 {
		t.Fatalf("step = %+v", step)
	}
	for _, tt := range []struct {
		name string
		edit func(r *recorded)
	}{
		{"no command", func(r *recorded) { r.step.Command = nil }},
		{"input climbing out", func(r *recorded) { r.step.Inputs[0].Name = "../../etc/passwd" }},
		{"absolute input name", func(r *recorded) { r.step.Inputs[0].Name = "/etc/shadow" }},
		{"output at an input", func(r *recorded) { r.step.Outputs[0].Name = "raw.csv" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := recordStep(t, s, nil)
			tt.edit(r)
			resign(t, r)
			_, err := rerun.StepFromResult(r.result)
			var re *rerun.RecordError
			if !errors.As(err, &re) || !errors.Is(err, rerun.ErrInvalidRecord) {
				t.Fatalf("StepFromResult = %v, want a *RecordError", err)
			}
		})
	}
}

// resign signs r's step again, attached to its output, and returns the verified result.
func resign(t *testing.T, r *recorded) *verify.Result {
	t.Helper()
	manifests, err := r.store.FileManifests(t.Context(), r.output)
	if err != nil || len(manifests) == 0 {
		t.Fatal(manifests, err)
	}
	r.sign(t, r.store, manifests[0])
	return r.result
}

// TestRunImageIndex records a step whose image is an index: the linux manifest of this
// machine's architecture is run, and the index, as recorded, is the input compared.
func TestRunImageIndex(t *testing.T) {
	needRoot(t)
	s, err := oras.NewLayout(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := recordStep(t, s, nil)
	manifest := r.image
	manifest.Platform = &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	other := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("another platform"), Size: 10,
		Platform: &ocispec.Platform{OS: "windows", Architecture: runtime.GOARCH}}
	data, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{other, manifest}})
	if err != nil {
		t.Fatal(err)
	}
	index := push(t, s.Target(), ocispec.MediaTypeImageIndex, data)
	if err := s.Target().Tag(t.Context(), index, "clean-tool-index"); err != nil {
		t.Fatal(err)
	}
	r.step.Image = "registry.example/tools/clean@" + index.Digest.String()
	resign(t, r)
	out, err := rerun.Run(t.Context(), r.result, s, s.Target(), rerun.WithDir(t.TempDir()), rerun.WithClock(checkedOn))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !out.Rebuild.Matched() || out.Image.Digest != r.image.Digest || out.Inputs[0].GetDigest()["sha256"] != index.Digest.Encoded() {
		t.Fatalf("matched %v (%v), ran %s, image input %v", out.Rebuild.Matched(), out.Rebuild.Differences, out.Image.Digest, out.Inputs[0])
	}
}

// An oras.Store is the Store a step is re-run from, and its target the Content.
var (
	_ rerun.Store   = (*oras.Store)(nil)
	_ rerun.Content = orasgoTarget(nil)
	_ rerun.Runner  = rerun.Chroot()
	_ rerun.Runner  = rerun.RunnerFunc(nil)
)

// BenchmarkRun re-runs a recorded step from an OCI layout: fetch and unpack its image (one
// gzip layer holding a 2 MB static program), fetch its input, chroot and run the program, hash
// the output and check it.
func BenchmarkRun(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("the chroot runner needs root privileges")
	}
	s, err := oras.NewLayout(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	r := recordStep(b, s, nil)
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		out, err := rerun.Run(b.Context(), r.result, s, s.Target(), rerun.WithDir(dir), rerun.WithClock(checkedOn))
		if err != nil || !out.Rebuild.Matched() {
			b.Fatal(err)
		}
		if err := os.RemoveAll(out.Dir); err != nil {
			b.Fatal(err)
		}
	}
}
