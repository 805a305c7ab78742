package policy

// The document types mirror the policy file one to one. They are unexported: a policy is made
// only by Load, which validates and compiles everything once.

type document struct {
	APIVersion   string                 `yaml:"apiVersion" json:"apiVersion"`
	Kind         string                 `yaml:"kind" json:"kind"`
	Metadata     metadataDoc            `yaml:"metadata" json:"metadata"`
	CELCostLimit *uint64                `yaml:"celCostLimit" json:"celCostLimit"`
	Rules        []ruleDoc              `yaml:"rules" json:"rules"`
	Environments map[string]environment `yaml:"environments" json:"environments"`
}

type metadataDoc struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
}

type environment struct {
	Rules       map[string]string `yaml:"rules" json:"rules"`
	DefaultMode string            `yaml:"defaultMode" json:"defaultMode"`
	AllowEmpty  bool              `yaml:"allowEmpty" json:"allowEmpty"`
}

type ruleDoc struct {
	Name                 string           `yaml:"name" json:"name"`
	Description          string           `yaml:"description" json:"description"`
	Signers              *signersDoc      `yaml:"signers" json:"signers"`
	RequiredAttestations *attestationsDoc `yaml:"requiredAttestations" json:"requiredAttestations"`
	SLSA                 *slsaDoc         `yaml:"slsa" json:"slsa"`
	Materials            *materialsDoc    `yaml:"materials" json:"materials"`
	Freshness            *freshnessDoc    `yaml:"freshness" json:"freshness"`
	Environment          *envDoc          `yaml:"environment" json:"environment"`
	Vulnerabilities      *vulnsDoc        `yaml:"vulnerabilities" json:"vulnerabilities"`
	Lifecycle            *lifecycleDoc    `yaml:"lifecycle" json:"lifecycle"`
	CEL                  *celDoc          `yaml:"cel" json:"cel"`
}

type signersDoc struct {
	Threshold      int         `yaml:"threshold" json:"threshold"`
	PredicateTypes []string    `yaml:"predicateTypes" json:"predicateTypes"`
	Identities     []signerDoc `yaml:"identities" json:"identities"`
}

type signerDoc struct {
	Name          string            `yaml:"name" json:"name"`
	KeyID         string            `yaml:"keyId" json:"keyId"`
	Issuer        string            `yaml:"issuer" json:"issuer"`
	IssuerRegexp  string            `yaml:"issuerRegexp" json:"issuerRegexp"`
	Subject       string            `yaml:"subject" json:"subject"`
	SubjectRegexp string            `yaml:"subjectRegexp" json:"subjectRegexp"`
	Extensions    map[string]string `yaml:"extensions" json:"extensions"`
}

type attestationsDoc struct {
	PredicateTypes []string `yaml:"predicateTypes" json:"predicateTypes"`
}

type slsaDoc struct {
	Builders           []builderDoc   `yaml:"builders" json:"builders"`
	BuildTypes         []string       `yaml:"buildTypes" json:"buildTypes"`
	Source             *sourceDoc     `yaml:"source" json:"source"`
	ExternalParameters map[string]any `yaml:"externalParameters" json:"externalParameters"`
}

type builderDoc struct {
	ID       string `yaml:"id" json:"id"`
	Versions string `yaml:"versions" json:"versions"`
}

type sourceDoc struct {
	Repositories []string `yaml:"repositories" json:"repositories"`
	Branches     []string `yaml:"branches" json:"branches"`
	Tags         []string `yaml:"tags" json:"tags"`
	TagVersions  string   `yaml:"tagVersions" json:"tagVersions"`
}

type materialsDoc struct {
	RequirePinned bool          `yaml:"requirePinned" json:"requirePinned"`
	Allow         []string      `yaml:"allow" json:"allow"`
	Deny          []string      `yaml:"deny" json:"deny"`
	BaseImages    *baseImageDoc `yaml:"baseImages" json:"baseImages"`
}

type baseImageDoc struct {
	Registries    []string `yaml:"registries" json:"registries"`
	RequirePinned bool     `yaml:"requirePinned" json:"requirePinned"`
}

type lifecycleDoc struct {
	Deny []string `yaml:"deny" json:"deny"`
}

type freshnessDoc struct {
	MaxAge                  string   `yaml:"maxAge" json:"maxAge"`
	NotBefore               string   `yaml:"notBefore" json:"notBefore"`
	PredicateTypes          []string `yaml:"predicateTypes" json:"predicateTypes"`
	AllowMissingSigningTime bool     `yaml:"allowMissingSigningTime" json:"allowMissingSigningTime"`
}

type envDoc struct {
	ForbiddenVariables []string `yaml:"forbiddenVariables" json:"forbiddenVariables"`
	ForbiddenValues    []string `yaml:"forbiddenValues" json:"forbiddenValues"`
	RequiredParameters []string `yaml:"requiredParameters" json:"requiredParameters"`
}

type vulnsDoc struct {
	FailAt        string   `yaml:"failAt" json:"failAt"`
	AcceptOpenVEX bool     `yaml:"acceptOpenVEX" json:"acceptOpenVEX"`
	Ignore        []string `yaml:"ignore" json:"ignore"`
	MaxAge        string   `yaml:"maxAge" json:"maxAge"`
}

type celDoc struct {
	Expression     string   `yaml:"expression" json:"expression"`
	PredicateTypes []string `yaml:"predicateTypes" json:"predicateTypes"`
	Match          string   `yaml:"match" json:"match"`
	Message        string   `yaml:"message" json:"message"`
}
