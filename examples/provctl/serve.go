package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/verify/lineage/dashboard"
	"github.com/provkit/provkit/verify/lineage/index"
)

const serveUsage = `serve (--index FILE | --postgres DSN) [--listen ADDR] [--token-file FILE] [--dot PATH] [--title NAME]

Serve the reproducibility dashboard of a provenance index, read-only, until interrupted
(Ctrl-C, or --timeout before the command). It listens on loopback by default; any other
address needs --token-file, and then every request must carry the token (open the printed
address with ?token=TOKEN once in a browser, or send "Authorization: Bearer TOKEN").
The index is never written, but an index of an older schema is upgraded when it is opened.`

// defaultListen is where serve listens without --listen: loopback only.
const defaultListen = "127.0.0.1:8480"

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer, _ map[string]string) error {
	fs := newFlagSet("serve", stderr, serveUsage)
	indexFile := fs.String("index", "", "SQLite index file (made by 'provctl tag check --index' or index.OpenSQLite)")
	dsn := fs.String("postgres", "", "PostgreSQL index, as a DSN (postgres://user@host/db)")
	listen := fs.String("listen", defaultListen, "address to listen on; a non-loopback one needs --token-file")
	tokenFile := fs.String("token-file", "", "file holding the access token (at least 16 bytes) every request must carry")
	dot := fs.String("dot", "", "path of Graphviz's dot (default: dot on PATH)")
	title := fs.String("title", "", "name shown at the top of every page")
	if _, err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if (*indexFile == "") == (*dsn == "") {
		return usagef("serve: give exactly one of --index FILE and --postgres DSN")
	}
	var opts []dashboard.Option
	if *tokenFile != "" {
		raw, err := os.ReadFile(*tokenFile)
		if err != nil {
			return usagef("serve: --token-file: %v", err)
		}
		token := strings.TrimSpace(string(raw))
		if len(token) < 16 {
			return usagef("serve: the token in %s has %d bytes; it needs at least 16", *tokenFile, len(token))
		}
		opts = append(opts, dashboard.WithBearerToken(token))
	}
	loopback, err := isLoopback(*listen)
	if err != nil {
		return usagef("serve: --listen %q: %v", *listen, err)
	}
	if !loopback && *tokenFile == "" {
		return usagef("serve: --listen %s is reachable from other machines: give --token-file, or listen on 127.0.0.1", *listen)
	}
	if *dot != "" {
		opts = append(opts, dashboard.WithDot(*dot))
	}
	if *title != "" {
		opts = append(opts, dashboard.WithTitle(*title))
	}
	opts = append(opts, dashboard.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))

	var ix *index.Index
	source := *indexFile
	if *indexFile != "" {
		// A dashboard only reads: it never makes an empty index where none was.
		if _, err := os.Stat(*indexFile); err != nil {
			return usagef("serve: --index: %v", err)
		}
		ix, err = index.OpenSQLite(ctx, *indexFile)
	} else {
		source = "the PostgreSQL index"
		ix, err = index.OpenPostgres(ctx, *dsn)
	}
	if err != nil {
		return configError(err)
	}
	defer ix.Close()
	h, err := dashboard.New(ix, opts...)
	if err != nil {
		return usagef("serve: %v", err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(stderr, nil), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String() + "/"
	out := textout.New(stdout)
	if *tokenFile != "" {
		_ = out.Printf("serving the dashboard of %s at %s (token required: open %s?token=… with the token of %s)\n", source, url, url, *tokenFile)
	} else {
		_ = out.Printf("serving the dashboard of %s at %s\n", source, url)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	_ = out.Printf("stopped\n")
	return nil
}

// isLoopback reports whether every address a listen address can be reached at is a loopback
// one: an IP literal of the loopback network, or "localhost". An empty host listens on every
// interface.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback(), nil
}
