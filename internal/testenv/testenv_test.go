package testenv

import (
	"fmt"
	"runtime"
	"testing"
)

// fakeTB records what a helper does with its testing.TB. Skipf ends the
// calling goroutine as the real one does.
type fakeTB struct {
	testing.TB
	skipped bool
	msg     string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = true
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs fn with a fake TB in its own goroutine, so that Skipf can end
// it, and reports what happened.
func call(fn func(testing.TB) string) (f *fakeTB, got string, returned bool) {
	f = &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = fn(f)
		returned = true
	}()
	<-done
	return f, got, returned
}

func TestDistributionSkipsWhenUnset(t *testing.T) {
	t.Setenv(EnvDistribution, "")
	f, _, returned := call(Distribution)
	if !f.skipped || returned {
		t.Fatalf("Distribution with %s unset: skipped=%v returned=%v, want a skip", EnvDistribution, f.skipped, returned)
	}
	want := "skipping: PROVKIT_TEST_DISTRIBUTION not set; run `make test` to start the outside programs"
	if f.msg != want {
		t.Errorf("skip message = %q, want %q", f.msg, want)
	}
}

func TestHelpersReturnValueWhenSet(t *testing.T) {
	helpers := map[string]func(testing.TB) string{
		EnvDistribution: Distribution,
		EnvOlareg:       Olareg,
		EnvTSAURL:       TSAURL,
		EnvPostgres:     Postgres,
		EnvCosign:       Cosign,
		EnvOras:         Oras,
		EnvCrane:        Crane,
		EnvSoftHSM:      SoftHSM,
	}
	for name, fn := range helpers {
		t.Run(name, func(t *testing.T) {
			want := "value-of-" + name
			t.Setenv(name, want)
			f, got, returned := call(fn)
			if f.skipped || !returned {
				t.Fatalf("skipped with %s set: %q", name, f.msg)
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestHelpersSkipWhenUnset(t *testing.T) {
	helpers := map[string]func(testing.TB) string{
		EnvOlareg:   Olareg,
		EnvTSAURL:   TSAURL,
		EnvPostgres: Postgres,
		EnvCosign:   Cosign,
		EnvOras:     Oras,
		EnvCrane:    Crane,
		EnvSoftHSM:  SoftHSM,
	}
	for name, fn := range helpers {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "")
			f, _, returned := call(fn)
			if !f.skipped || returned {
				t.Fatalf("did not skip with %s unset", name)
			}
			want := "skipping: " + name + " not set; run `make test` to start the outside programs"
			if f.msg != want {
				t.Errorf("skip message = %q, want %q", f.msg, want)
			}
		})
	}
}

// TestRealSkip checks that, on a real *testing.T, a missing variable skips
// the test rather than failing it.
func TestRealSkip(t *testing.T) {
	var reached bool
	t.Run("unset", func(t *testing.T) {
		t.Setenv(EnvSoftHSM, "")
		SoftHSM(t)
		reached = true
	})
	if reached {
		t.Fatal("SoftHSM returned with the variable unset")
	}
}
