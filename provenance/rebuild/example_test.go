package rebuild_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
)

// Rebuild a released directory and record whether it matched: the rebuilt tree has one file
// that differs and one the release does not have.
func Example() {
	dir, _ := os.MkdirTemp("", "rebuild-example")
	defer os.RemoveAll(dir)
	write := func(tree string, files map[string]string) string {
		root := filepath.Join(dir, tree)
		for name, content := range files {
			p := filepath.Join(root, filepath.FromSlash(name))
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.WriteFile(p, []byte(content), 0o644)
		}
		return root
	}
	released, _ := provenance.SubjectsFromDir(context.Background(),
		write("release", map[string]string{"bin/app": "app 1.0", "doc/README": "read me"}))
	rebuilt, _ := provenance.SubjectsFromDir(context.Background(),
		write("rebuild", map[string]string{"bin/app": "app 1.0 built at 12:00", "doc/README": "read me", "doc/NOTES": "notes"}))

	// In practice the original provenance comes from verify; here it is built in place.
	original, _ := (&provenance.Build{
		BuildType:          "https://example.com/make/v1",
		ExternalParameters: map[string]any{"target": "release"},
		BuilderID:          "https://ci.example/release",
	}).Statement(released)

	clock := provenance.FixedClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: rebuilt, CheckedOn: clock()})
	if err != nil {
		fmt.Println("cannot check:", err)
		return
	}
	for _, c := range res.Differences {
		fmt.Println(c.Kind, c.Field)
	}
	if err := res.Err(); errors.Is(err, rebuild.ErrMismatch) {
		fmt.Println(err)
	}

	// The statement is about the released files (the rebuilt ones are in its predicate): sign
	// it and attach it to the release either way.
	st, _ := res.Statement()
	fmt.Println(st.GetPredicateType(), len(st.GetSubject()))
	back, _ := rebuild.Parse(st)
	fmt.Println(back.Outcome, back.CheckedOn.Format(time.RFC3339))
	fmt.Println(res.Summary())
	// Output:
	// changed subjects[bin/app]
	// added subjects[doc/NOTES]
	// rebuild: rebuilt artifact does not match the original: 2 differences: subjects[bin/app] changed, subjects[doc/NOTES] added
	// https://provkit.dev/rebuild/v1 2
	// mismatch 2026-05-01T12:00:00Z
	// did not match: 2 differences; outputs compared: 2 files by sha256; inputs not compared
}
