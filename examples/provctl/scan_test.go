package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// TestScanCommand attaches signed vulns v0.2 statements made from scan reports to an image in
// an OCI layout; verify with a policy using the vulnerabilities rule then denies on the high
// finding, allows below it, and with maxAge tells a stale scan from a fresh one. A report of
// no known format, or a malformed one, exits 2 and attaches nothing.
func TestScanCommand(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	store, err := oras.NewLayout(t.Context(), at("pack"))
	require.NoError(t, err)
	testenv.PushImage(t, store.Target(), "v1", "api 1.4.2\n")
	testenv.PushImage(t, store.Target(), "clean", "api 1.5.0\n")
	testenv.PushImage(t, store.Target(), "empty", "api 1.6.0\n")
	env := map[string]string{envPassword: "", "HOME": dir}
	mustRun(t, exitOK, env, "key", "generate", "--out", at("scanner"))
	fixture := func(name string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", "provenance", "vuln", "testdata", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(at(name), data, 0o644))
		return at(name)
	}
	write := func(name, content string) string {
		require.NoError(t, os.WriteFile(at(name), []byte(content), 0o644))
		return at(name)
	}
	image := at("pack") + ":v1"
	scan := func(want int, more ...string) result {
		return mustRun(t, want, env, append([]string{"scan", "--key", at("scanner.key"), "--oci-layout"}, more...)...)
	}
	discover := func(ref string) []string {
		r := provctl(t, env, "discover", "--oci-layout", "--output", "json", ref)
		var out struct {
			Attestations []struct {
				PredicateType string `json:"predicateType"`
			} `json:"attestations"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout+r.stderr)
		var types []string
		for _, a := range out.Attestations {
			types = append(types, a.PredicateType)
		}
		return types
	}
	policyFile := func(name, rule string) string {
		return write(name, "apiVersion: provkit.dev/policy/v1\nkind: Policy\nmetadata: {name: scans}\nrules:\n  - name: vulns\n    vulnerabilities: "+rule+"\n")
	}
	verify := func(want int, policy, ref string) result {
		return mustRun(t, want, env, "verify", "--key", at("scanner.pub"), "--insecure-ignore-tlog", "--oci-layout", "--policy", policy, ref)
	}

	t.Run("a report of no known format attaches nothing", func(t *testing.T) {
		r := scan(exitUnchecked, write("bom.json", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}`), image)
		require.Contains(t, r.stderr, "provctl: scan: "+at("bom.json")+": vuln: report: a JSON object of no known scan report format")
		r = scan(exitUnchecked, write("table.txt", "NAME   INSTALLED  VULNERABILITY   SEVERITY\nlibc6  2.36-9     CVE-2024-2961   High\n"), image)
		require.Contains(t, r.stderr, "vuln: report: not JSON")
		r = scan(exitUnchecked, write("broken.json", `{"matches": {}, "descriptor": {"name": "grype"}}`), image)
		require.Contains(t, r.stderr, "vuln: grype report: matches: an object, not a list of matches")
		r = scan(exitUnchecked, "--format", "grype", fixture("trivy.json"), image)
		require.Contains(t, r.stderr, "vuln: grype report: the document has none of the format's fields (matches)")
		r = scan(exitUnchecked, "--format", "cyclonedx", fixture("trivy.json"), image)
		require.Contains(t, r.stderr, `--format "cyclonedx" is not auto, grype, trivy, sarif, osv-scanner, in-toto`)
		scan(exitUnchecked, at("missing.json"), image)
		scan(exitUnchecked, fixture("trivy.json"))
		require.Empty(t, discover(image), "nothing was attached")
	})

	r := scan(exitOK, fixture("grype.json"), image)
	require.True(t, strings.HasPrefix(r.stdout, "sha256:"), r.stdout)
	require.Equal(t, []string{provenance.PredicateVulnsV02}, discover(image))

	t.Run("the vulnerabilities rule denies on the high finding", func(t *testing.T) {
		r := verify(exitDenied, policyFile("high.yaml", "{failAt: high}"), image)
		require.Contains(t, r.stdout, "fail     vulns                    1 finding(s) at or above high: CVE-2024-2961\n")
		require.Contains(t, r.stdout, "verdict  deny")
		r = verify(exitOK, policyFile("critical.yaml", "{failAt: critical}"), image)
		require.Contains(t, r.stdout, "pass     vulns                    1 scan(s), 3 finding(s), none blocking at critical\n")
		r = verify(exitOK, policyFile("ignore.yaml", "{failAt: high, ignore: [CVE-2024-2961]}"), image)
		require.Contains(t, r.stdout, "verdict  allow")
	})

	t.Run("maxAge", func(t *testing.T) {
		// grype.json's scan finished on 2026-11-30: more than a day ago.
		r := verify(exitDenied, policyFile("fresh.yaml", "{failAt: critical, maxAge: 24h}"), image)
		require.Contains(t, r.stdout, "fail     vulns                    no vulnerability scan newer than 24h; newest is ")

		clean := at("pack") + ":clean"
		now := time.Now().UTC().Format(time.RFC3339)
		scan(exitOK, write("today.json", `{"SchemaVersion": 2, "Trivy": {"Version": "0.58.1"}, "CreatedAt": "`+now+`", "Results": [{"Target": "app", "Class": "lang-pkgs", "Vulnerabilities": [
			{"VulnerabilityID": "CVE-2024-45337", "PkgName": "golang.org/x/crypto", "InstalledVersion": "v0.21.0", "Severity": "HIGH"}]}]}`), clean)
		r = verify(exitOK, policyFile("fresh.yaml", "{failAt: critical, maxAge: 24h}"), clean)
		require.Contains(t, r.stdout, "pass     vulns                    1 scan(s), 1 finding(s), none blocking at critical\n")
		r = verify(exitDenied, policyFile("fresh-high.yaml", "{failAt: high, maxAge: 24h}"), clean)
		require.Contains(t, r.stdout, "1 finding(s) at or above high: CVE-2024-45337\n")
	})

	t.Run("every format", func(t *testing.T) {
		empty := at("pack") + ":empty"
		for _, name := range []string{"trivy-empty.json", "osv-scanner-empty.json", "vulns-v02-predicate.json"} {
			scan(exitOK, fixture(name), empty)
		}
		require.Equal(t, []string{provenance.PredicateVulnsV02, provenance.PredicateVulnsV02, provenance.PredicateVulnsV02}, discover(empty))
		r := verify(exitOK, policyFile("low.yaml", "{failAt: low}"), empty)
		require.Contains(t, r.stdout, "pass     vulns                    3 scan(s), 0 finding(s), none blocking at low\n")

		for name, id := range map[string]string{"sarif-codeql.json": "go/sql-injection", "osv-scanner.json": "GHSA-4374-p667-p6c8", "sarif-trivy.json": "CVE-2024-45337"} {
			tag := strings.TrimSuffix(name, ".json")
			testenv.PushImage(t, store.Target(), tag, name+"\n")
			ref := at("pack") + ":" + tag
			scan(exitOK, fixture(name), ref)
			r := verify(exitDenied, policyFile("high.yaml", "{failAt: high}"), ref)
			require.Contains(t, r.stdout, id, name)
		}
	})
}
