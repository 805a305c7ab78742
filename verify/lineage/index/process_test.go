package index

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
)

// The environment of a child process of the tests below: the test binary run again, as a
// separate OS process, doing one part of the work on a shared SQLite file.
const (
	childDB    = "PROVKIT_INDEX_CHILD_DB"    // the database file
	childWork  = "PROVKIT_INDEX_CHILD_WORK"  // "open", or "write" after a line on standard input
	childName  = "PROVKIT_INDEX_CHILD_NAME"  // distinguishes the statements of each child
	childCount = "PROVKIT_INDEX_CHILD_COUNT" // statements to add, 50 per Add
)

// TestChild is the child process; it does nothing unless run by startChild.
func TestChild(t *testing.T) {
	path := os.Getenv(childDB)
	if path == "" {
		t.Skip("run as a child process only")
	}
	var results []*verify.Result
	if os.Getenv(childWork) == "write" {
		n, _ := strconv.Atoi(os.Getenv(childCount))
		results = namedResults(t, os.Getenv(childName), n)
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for start := 0; start < len(results); start += 50 {
		if err := ix.Add(t.Context(), results[start:min(start+50, len(results))]...); err != nil {
			t.Fatal(err)
		}
	}
}

// child is a running child process.
type child struct {
	cmd   *exec.Cmd
	stdin *os.File
	out   *bufio.Reader
	done  chan error
}

func startChild(t testing.TB, env ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, outW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	c := &child{cmd: cmd, stdin: inW, out: bufio.NewReader(outR), done: make(chan error, 1)}
	return c
}

// wait waits for the child to end, and returns its output on failure.
func (c *child) wait() error {
	rest, _ := c.out.ReadString(0)
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("%v: %s", err, rest)
	}
	return nil
}

// TestOpenSQLiteProcesses opens one new SQLite file from four processes at once, 30 times:
// every open succeeds, and the schema is made once.
func TestOpenSQLiteProcesses(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	dir := t.TempDir()
	for r := range rounds {
		path := filepath.Join(dir, fmt.Sprintf("index-%d.db", r))
		var children []*child
		for range 4 {
			children = append(children, startChild(t, childDB+"="+path, childWork+"=open"))
		}
		for i, c := range children {
			if err := c.wait(); err != nil {
				t.Errorf("round %d, process %d: %v", r, i, err)
			}
		}
		ix, err := OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		if v := schemaVersion(t, ix); v != SchemaVersion {
			t.Errorf("round %d: schema version %d", r, v)
		}
		ix.Close()
	}
}

// TestWriteSQLiteProcesses adds 100 statements from each of four processes to one file: all
// are recorded.
func TestWriteSQLiteProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	if _, err := writers(t, path, 4, 100); err != nil {
		t.Fatal(err)
	}
	ix, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n := countRows(t, ix, []string{"statements"})["statements"]; n != 400 {
		t.Errorf("%d statements, want 400", n)
	}
}

// writers runs n child processes that each add per statements to path, 50 per Add, once all are
// ready, and returns how long the adds took, from the start signal to the last exit.
func writers(t testing.TB, path string, n, per int) (time.Duration, error) {
	t.Helper()
	var children []*child
	for i := range n {
		c := startChild(t, childDB+"="+path, childWork+"=write", childName+"=w"+strconv.Itoa(i), childCount+"="+strconv.Itoa(per))
		children = append(children, c)
	}
	for i, c := range children {
		line, err := c.out.ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			return 0, fmt.Errorf("process %d: %q, %v", i, line, err)
		}
	}
	start := time.Now()
	for _, c := range children {
		fmt.Fprintln(c.stdin, "go")
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, c := range children {
		wg.Go(func() { errs[i] = c.wait() })
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			return 0, fmt.Errorf("process %d: %w", i, err)
		}
	}
	return elapsed, nil
}

// BenchmarkWritersSQLite adds 800 statements to a new SQLite file, 50 per Add, from one
// process or split over four processes, and reports statements per second from the start
// signal (the children sign and verify their statements before it) to the last exit.
func BenchmarkWritersSQLite(b *testing.B) {
	const total = 800
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			var elapsed time.Duration
			for i := range b.N {
				d, err := writers(b, filepath.Join(dir, fmt.Sprintf("index-%d.db", i)), n, total/n)
				if err != nil {
					b.Fatal(err)
				}
				elapsed += d
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N), "ns/add-all")
			b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "statements/s")
		})
	}
}

// namedResults signs and verifies n workflow steps whose names start with prefix.
func namedResults(t testing.TB, prefix string, n int) []*verify.Result {
	t.Helper()
	key := newKey(t)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{keys: v}
	out := make([]*verify.Result, n)
	for i := range n {
		name := prefix + "-" + strconv.Itoa(i)
		output := file(name, digest.FromString(name))
		st := stepStatement(t, &workflow.Step{
			Name: name, Workflow: "bench", RunID: "run-1", Command: []string{"run", name},
			Image:      "registry.example/tools/step@" + digest.FromString("image").String(),
			Parameters: map[string]any{"seed": i, "mode": "fast"},
			Inputs:     []*intoto.ResourceDescriptor{file("dataset.csv", digest.FromString("dataset"))},
			Outputs:    []*intoto.ResourceDescriptor{output}, BuilderID: science,
		})
		if out[i], err = f.verifyKey(t, key, st, digest.Digest("sha256:"+output.GetDigest()["sha256"])); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
