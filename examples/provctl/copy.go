package main

import (
	"context"
	"fmt"
	"io"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
)

// copyCmd runs "provctl copy".
func copyCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("copy", stderr, "copy [--plain-http] SRC DST\n\nSRC and DST are host[:port]/repo[:tag|@digest] or oci-layout:PATH[:tag|@digest]")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to registries (loopback only)")
	pos, err := parseFlags(fset, args, 2)
	if err != nil {
		return err
	}
	src, err := parseLocation(pos[0])
	if err != nil {
		return err
	}
	dst, err := parseLocation(pos[1])
	if err != nil {
		return err
	}
	from, err := openStore(ctx, src, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	to, err := openStore(ctx, dst, storeOptions{plainHTTP: *plainHTTP, create: true}, env)
	if err != nil {
		return err
	}
	// The destination keeps its own tag; without one it gets the source's tag, and an image
	// copied by digest stays untagged there.
	dstRef := dst.ref()
	if dst.defaulted() {
		dstRef = src.Tag
	}
	desc, err := oras.Copy(ctx, from, src.ref(), to, dstRef)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", pos[0], pos[1], err)
	}
	return textout.New(stdout).Printf("Copied %s to %s@%s\n", pos[0], dst.name, desc.Digest)
}
