package policy

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

// FuzzScanFindings: a scan predicate of any JSON shape either reads as findings that each carry
// a vulnerability id, or is a *shapeError; it never reads as something in between.
func FuzzScanFindings(f *testing.F) {
	f.Add(`{"scanner": {"result": [{"id": "CVE-2026-1", "severity": [{"score": "9.8"}]}]}}`, false)
	f.Add(`{"scanner": {"result": {"Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-2026-2", "Severity": "HIGH"}]}]}}}`, true)
	f.Add(`{"scanner": {"result": {"matches": [{"vulnerability": {"id": "GHSA-1"}, "relatedVulnerabilities": [{"id": "CVE-2026-3"}]}]}}}`, true)
	f.Add(`{"scanner": {"result": "none"}}`, false)
	f.Add(`{"scanner": {"result": {"SchemaVersion": 2}}}`, true)
	f.Fuzz(func(t *testing.T, predicate string, cosign bool) {
		var s structpb.Struct
		if s.UnmarshalJSON([]byte(predicate)) != nil {
			return
		}
		v := &view{predicate: &s, predicateType: provenance.PredicateVulnsV02}
		if cosign {
			v.predicateType = provenance.PredicateCosignVuln
		}
		fs, err := findings(v)
		if err != nil {
			var se *shapeError
			if !errors.As(err, &se) || se.field == "" {
				t.Fatalf("error %v is not a *shapeError naming a field", err)
			}
			return
		}
		for _, f := range fs {
			if f.id == "" || f.field == "" {
				t.Fatalf("finding without an id or field: %+v", f)
			}
		}
	})
}
