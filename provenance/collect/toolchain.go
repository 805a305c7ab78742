package collect

import (
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"google.golang.org/protobuf/types/known/structpb"
)

// DigestGoModuleH1 is the digest key of a Go module dependency: the module's go.sum "h1:" hash
// (SHA-256 over the sorted list of the SHA-256 of every file of the module tree, each named
// "module@version/path"), recorded in lowercase hexadecimal instead of base64, without "h1:".
// This is the goModuleH1 algorithm of the in-toto digest set (spec v0.1). It is not in-toto v1's
// dirHash, which hashes the same tree without the "module@version/" prefix and so never equals
// the go.sum value. To compare with go.sum, base64-encode the decoded hex and prefix "h1:".
const DigestGoModuleH1 = "goModuleH1"

// Toolchain is what a Go program's embedded build information says about how it was built.
type Toolchain struct {
	// GoVersion is the Go toolchain that built the program, such as "go1.26.8".
	GoVersion string
	// Path is the package path of the program's main package.
	Path string
	// Main is the main module. Its version is "(devel)" unless built from a module download.
	Main Module
	// Settings are the build settings as the go command recorded them, in its order: -trimpath,
	// -ldflags, -tags, CGO_ENABLED, GOOS, GOARCH, GOAMD64, vcs, vcs.revision, vcs.time,
	// vcs.modified and others. A value that looks secret (an -ldflags -X carrying a token, say)
	// is replaced by Redacted.
	Settings []Setting
	// Deps are the module dependencies linked into the program, in the go command's order.
	Deps []Module
}

// Setting is one build setting.
type Setting struct {
	// Key is the setting's name, such as "-trimpath" or "GOOS".
	Key string
	// Value is its value.
	Value string
}

// Module is one Go module.
type Module struct {
	// Path is the module path.
	Path string
	// Version is the module version, "(devel)" for a main module built from source.
	Version string
	// Sum is the go.sum hash, "h1:" followed by base64; "" when unknown (a main module or a local
	// replacement).
	Sum string
	// Replace is the module that replaced this one, or nil.
	Replace *Module
}

// ProcessToolchain returns the toolchain of the running program, from debug.ReadBuildInfo. A
// program built without module support yields a *BuildInfoError wrapping ErrNoBuildInfo.
func ProcessToolchain() (*Toolchain, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil, &BuildInfoError{Err: ErrNoBuildInfo}
	}
	return ToolchainFromBuildInfo(bi), nil
}

// ToolchainFromFile returns the toolchain of the Go program at path, from its embedded build
// information (buildinfo.ReadFile). A file that is not a Go program, or one that cannot be read,
// yields a *BuildInfoError wrapping ErrNoBuildInfo.
func ToolchainFromFile(path string) (*Toolchain, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, &BuildInfoError{Path: path, Err: fmt.Errorf("%w: %w", ErrNoBuildInfo, err)}
	}
	return ToolchainFromBuildInfo(bi), nil
}

// ToolchainFromBuildInfo returns the toolchain bi describes, with every setting value in which
// LooksSecret finds a credential replaced by Redacted.
func ToolchainFromBuildInfo(bi *debug.BuildInfo) *Toolchain {
	t := &Toolchain{
		GoVersion: bi.GoVersion,
		Path:      bi.Path,
		Main:      moduleOf(&bi.Main),
		Settings:  make([]Setting, 0, len(bi.Settings)),
		Deps:      make([]Module, 0, len(bi.Deps)),
	}
	for _, s := range bi.Settings {
		// Setting keys such as -ldflags name no secret themselves; only the value rules apply.
		v := s.Value
		if LooksSecret(v) {
			v = Redacted
		}
		t.Settings = append(t.Settings, Setting{Key: s.Key, Value: v})
	}
	for _, d := range bi.Deps {
		if d != nil {
			t.Deps = append(t.Deps, moduleOf(d))
		}
	}
	return t
}

func moduleOf(m *debug.Module) Module {
	out := Module{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		r := moduleOf(m.Replace)
		out.Replace = &r
	}
	return out
}

// Setting returns the value of the build setting key, and whether it was recorded.
func (t *Toolchain) Setting(key string) (string, bool) {
	for _, s := range t.Settings {
		if s.Key == key {
			return s.Value, true
		}
	}
	return "", false
}

// Parameters returns the toolchain as internal parameters: goVersion, path, mainModule
// ({path, version}) and settings (a map of every build setting).
func (t *Toolchain) Parameters() map[string]any {
	settings := make(map[string]any, len(t.Settings))
	for _, s := range t.Settings {
		settings[s.Key] = s.Value
	}
	return map[string]any{
		"goVersion":  t.GoVersion,
		"path":       t.Path,
		"mainModule": map[string]any{"path": t.Main.Path, "version": t.Main.Version},
		"settings":   settings,
	}
}

// Dependencies returns one resolved dependency per module dependency, annotated with role
// RoleModule: named by module path, with URI "pkg:golang/PATH@VERSION" (a package URL) and the
// DigestGoModuleH1 digest of its go.sum hash. A replaced module is recorded as its replacement,
// which is what was built, named by the original path. A replacement by a local directory has no
// version or sum: it is recorded with AnnotationUnpinned, so policy can reject it.
func (t *Toolchain) Dependencies() []*intoto.ResourceDescriptor {
	out := make([]*intoto.ResourceDescriptor, 0, len(t.Deps))
	for _, m := range t.Deps {
		out = append(out, moduleDependency(m))
	}
	return out
}

func moduleDependency(m Module) *intoto.ResourceDescriptor {
	built := m
	if m.Replace != nil {
		built = *m.Replace
	}
	rd := &intoto.ResourceDescriptor{
		Name:        m.Path,
		Annotations: annotations(provenance.AnnotationRole, provenance.RoleModule),
	}
	if built.Version != "" && !strings.HasPrefix(built.Path, ".") && !strings.HasPrefix(built.Path, "/") {
		rd.Uri = "pkg:golang/" + built.Path + "@" + built.Version
	}
	if h, ok := goModuleH1(built.Sum); ok {
		rd.Digest = map[string]string{DigestGoModuleH1: h}
	} else {
		rd.Annotations.Fields[provenance.AnnotationUnpinned] = structpb.NewStringValue("true")
	}
	return rd
}

// goModuleH1 turns "h1:BASE64" into lowercase hex.
func goModuleH1(sum string) (string, bool) {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return "", false
	}
	return hex.EncodeToString(raw), true
}
