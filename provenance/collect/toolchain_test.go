package collect_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

const ldflagsToken = "ghp_LdFlAgSsEcReT0123456789abcdefghijk"

// goDigestSum is go-digest v1.0.0's go.sum hash; the module is in the cache, since provkit uses it.
const goDigestSum = "h1:apOUWs51W5PlhuyGyz9FCeeBIOUDA/6nW8Oi/yOhh5U="

type program struct {
	once sync.Once
	path string
	err  error
}

var (
	programsMu sync.Mutex
	programs   = map[string]*program{}
	programDir string
)

// tinyProgram builds, once per test run and variant, a small Go program and returns its path.
// It depends on go-digest v1.0.0 from the module cache and on a module replaced by a local
// directory, and is built offline. Variant "trimpath" is built with -trimpath and CGO off;
// variant "ldflags" with an -ldflags -X that carries a token (the go command records -ldflags
// only without -trimpath).
func tinyProgram(t testing.TB, variant string) string {
	t.Helper()
	programsMu.Lock()
	p, ok := programs[variant]
	if !ok {
		p = &program{}
		programs[variant] = p
	}
	programsMu.Unlock()
	p.once.Do(func() { p.path, p.err = buildTiny(variant) })
	if p.err != nil {
		t.Fatalf("building the test program: %v", p.err)
	}
	return p.path
}

func buildTiny(variant string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	programsMu.Lock()
	if programDir == "" {
		programDir, err = os.MkdirTemp("", "collect-tiny-")
	}
	root := programDir
	programsMu.Unlock()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, variant)
	files := map[string]string{
		"go.mod": "module example.test/tiny\n\ngo 1.26\n\nrequire (\n\tgithub.com/opencontainers/go-digest v1.0.0\n\texample.test/lib v0.0.0\n)\n\nreplace example.test/lib => ./lib\n",
		"go.sum": "github.com/opencontainers/go-digest v1.0.0 " + goDigestSum + "\n" +
			"github.com/opencontainers/go-digest v1.0.0/go.mod h1:0JzlMkj0TRzQZfJkVvzbP0HBR3IKzErnv2BNG4W4MAM=\n",
		"main.go": "package main\n\nimport (\n\t\"example.test/lib\"\n\t\"github.com/opencontainers/go-digest\"\n)\n\n" +
			"var token string\n\nfunc main() { println(lib.Name, token, digest.FromString(\"x\")) }\n",
		"lib/go.mod": "module example.test/lib\n\ngo 1.26\n",
		"lib/lib.go": "package lib\n\n// Name is a name.\nvar Name = \"lib\"\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	out := filepath.Join(dir, "tiny")
	args := []string{"build", "-o", out}
	if variant == "trimpath" {
		args = append(args, "-trimpath")
	} else {
		args = append(args, "-ldflags=-X main.token="+ldflagsToken)
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(err.Error() + ": " + string(msg))
	}
	return out, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if programDir != "" {
		os.RemoveAll(programDir)
	}
	os.Exit(code)
}

func TestToolchainFromFile(t *testing.T) {
	tc, err := collect.ToolchainFromFile(tinyProgram(t, "trimpath"))
	if err != nil {
		t.Fatal(err)
	}
	if tc.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", tc.GoVersion, runtime.Version())
	}
	if tc.Path != "example.test/tiny" || tc.Main.Path != "example.test/tiny" {
		t.Errorf("Path = %q, Main = %+v", tc.Path, tc.Main)
	}
	settings := []struct{ key, want string }{
		{"-trimpath", "true"},
		{"CGO_ENABLED", "0"},
		{"GOOS", runtime.GOOS},
		{"GOARCH", runtime.GOARCH},
	}
	for _, s := range settings {
		if got, ok := tc.Setting(s.key); !ok || got != s.want {
			t.Errorf("Setting(%q) = %q, %v; want %q", s.key, got, ok, s.want)
		}
	}
	if _, ok := tc.Setting("no-such-setting"); ok {
		t.Error("Setting reports an unknown key")
	}

	deps := map[string]*intoto.ResourceDescriptor{}
	for _, rd := range tc.Dependencies() {
		deps[rd.GetName()] = rd
		if provenance.Role(rd) != provenance.RoleModule {
			t.Errorf("%s: role = %q", rd.GetName(), provenance.Role(rd))
		}
		if err := rd.Validate(); err != nil {
			t.Errorf("%s: %v", rd.GetName(), err)
		}
	}
	if len(deps) != 2 {
		t.Fatalf("dependencies = %v, want go-digest and the replaced module", deps)
	}
	gd := deps["github.com/opencontainers/go-digest"]
	if gd.GetUri() != "pkg:golang/github.com/opencontainers/go-digest@v1.0.0" {
		t.Errorf("go-digest uri = %q", gd.GetUri())
	}
	raw, err := hex.DecodeString(gd.GetDigest()[collect.DigestGoModuleH1])
	if err != nil {
		t.Fatal(err)
	}
	if got := "h1:" + base64.StdEncoding.EncodeToString(raw); got != goDigestSum {
		t.Errorf("goModuleH1 re-encoded = %s, want go.sum's %s", got, goDigestSum)
	}
	if _, unpinned := gd.GetAnnotations().GetFields()[provenance.AnnotationUnpinned]; unpinned {
		t.Error("a module with a sum is marked unpinned")
	}
	lib := deps["example.test/lib"]
	if len(lib.GetDigest()) != 0 || lib.GetAnnotations().GetFields()[provenance.AnnotationUnpinned].GetStringValue() != "true" {
		t.Errorf("a module replaced by a directory = %v, want no digest and unpinned", lib)
	}

	params := tc.Parameters()
	if params["goVersion"] != runtime.Version() || params["path"] != "example.test/tiny" {
		t.Errorf("parameters = %v", params)
	}
	if s := params["settings"].(map[string]any); s["-trimpath"] != "true" || s["CGO_ENABLED"] != "0" {
		t.Errorf("parameter settings = %v", s)
	}
}

func TestToolchainRedactsLdflags(t *testing.T) {
	tc, err := collect.ToolchainFromFile(tinyProgram(t, "ldflags"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := tc.Setting("-ldflags"); !ok || got != collect.Redacted {
		t.Errorf("Setting(-ldflags) = %q, %v; want %q", got, ok, collect.Redacted)
	}
	b := &provenance.Build{BuildType: collect.BuildTypeV1, ExternalParameters: map[string]any{"revision": "x"},
		InternalParameters: map[string]any{"toolchain": tc.Parameters()}, BuilderID: collect.LocalBuilderID}
	st, err := b.Statement([]*intoto.ResourceDescriptor{{Name: "tiny", Digest: map[string]string{"sha256": strings.Repeat("1", 64)}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), ldflagsToken) {
		t.Error("the -ldflags token reached the statement")
	}
}

// TestProcessToolchain reads this test program both ways. Test binaries record no module
// dependencies, only the toolchain and settings.
func TestProcessToolchain(t *testing.T) {
	fromProcess, err := collect.ProcessToolchain()
	if err != nil {
		t.Fatal(err)
	}
	if fromProcess.GoVersion != runtime.Version() || !strings.HasSuffix(fromProcess.Path, "/provenance/collect.test") {
		t.Errorf("process toolchain = %s %s", fromProcess.GoVersion, fromProcess.Path)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := collect.ToolchainFromFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.GoVersion != fromProcess.GoVersion || fromFile.Path != fromProcess.Path || len(fromFile.Settings) != len(fromProcess.Settings) {
		t.Errorf("file and process disagree: %+v vs %+v", fromFile, fromProcess)
	}
}

func TestToolchainFromBuildInfoReplace(t *testing.T) {
	sum := "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Path:      "example.test/app",
		Main:      debug.Module{Path: "example.test/app", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "example.test/old", Version: "v1.0.0", Sum: "h1:bad", Replace: &debug.Module{Path: "example.test/fork", Version: "v1.0.1", Sum: sum}},
			{Path: "example.test/nosum", Version: "v0.1.0"},
			nil,
		},
		Settings: []debug.BuildSetting{{Key: "-tags", Value: "netgo"}, {Key: "vcs.revision", Value: "abc"}},
	}
	tc := collect.ToolchainFromBuildInfo(bi)
	deps := tc.Dependencies()
	if len(deps) != 2 {
		t.Fatalf("got %d dependencies, want 2", len(deps))
	}
	if deps[0].GetName() != "example.test/old" || deps[0].GetUri() != "pkg:golang/example.test/fork@v1.0.1" ||
		deps[0].GetDigest()[collect.DigestGoModuleH1] != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("replaced module = %v", deps[0])
	}
	if deps[1].GetAnnotations().GetFields()[provenance.AnnotationUnpinned].GetStringValue() != "true" {
		t.Errorf("module without sum = %v, want unpinned", deps[1])
	}
	if v, _ := tc.Setting("vcs.revision"); v != "abc" {
		t.Errorf("vcs.revision = %q", v)
	}
}

func TestToolchainErrors(t *testing.T) {
	dir := t.TempDir()
	notProgram := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(notProgram, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"not a Go program", notProgram},
		{"missing file", filepath.Join(dir, "missing")},
		{"directory", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := collect.ToolchainFromFile(tt.path)
			if !errors.Is(err, collect.ErrNoBuildInfo) {
				t.Fatalf("err = %v, want ErrNoBuildInfo", err)
			}
			var bie *collect.BuildInfoError
			if !errors.As(err, &bie) || bie.Path != tt.path {
				t.Errorf("err = %#v, want *BuildInfoError for %s", err, tt.path)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}
