#!/usr/bin/env bash
# Regenerates the cosign fixtures in this directory with cosign v3.1.3, offline: a throwaway
# key pair, no transparency log, an in-memory olareg registry on loopback.
#
#   COSIGN=... OLAREG=... CRANE=... ORAS=... ./generate.sh
#
# internal/tools/install.sh builds the four programs at the pinned versions.
#
# Outputs:
#   cosign.pub             the public key (the private key is thrown away)
#   blob.sigstore.json     cosign attest-blob of blob.txt: a Sigstore bundle v0.3
#   image.digest           digest of the image attested below
#   legacy.manifest.json   the ".att" manifest of cosign attest --new-bundle-format=false
#   legacy.layer.json      its DSSE envelope layer
#   image.sigstore.json    the bundle layer of cosign attest (new bundle format, OCI referrer)
set -euo pipefail
cd "$(dirname "$0")"
COSIGN=${COSIGN:-cosign}
OLAREG=${OLAREG:-olareg}
CRANE=${CRANE:-crane}
ORAS=${ORAS:-oras}

work=$(mktemp -d)
olareg_pid=
cleanup() {
	if [[ -n "$olareg_pid" ]]; then kill "$olareg_pid"; fi
	rm -rf "$work"
}
trap cleanup EXIT
export COSIGN_PASSWORD=''
export HOME="$work"

(cd "$work" && "$COSIGN" generate-key-pair >/dev/null)
cp "$work/cosign.pub" cosign.pub
"$COSIGN" signing-config create --out "$work/sc.json"

"$COSIGN" attest-blob --key "$work/cosign.key" --type slsaprovenance1 --predicate predicate.json \
	--signing-config "$work/sc.json" --bundle blob.sigstore.json -y blob.txt

port=$((20000 + RANDOM % 20000))
"$OLAREG" serve --addr 127.0.0.1 --port "$port" --store-type mem >"$work/olareg.log" 2>&1 &
olareg_pid=$!
for _ in $(seq 50); do
	if curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then break; fi
	sleep 0.1
done
reg="127.0.0.1:$port"

cp blob.txt "$work/app.txt"
tar -cf "$work/layer.tar" -C "$work" app.txt
"$CRANE" append -f "$work/layer.tar" -t "$reg/app:v1" --insecure --oci-empty-base >/dev/null
digest=$("$CRANE" digest --insecure "$reg/app:v1")
printf '%s\n' "$digest" >image.digest

"$COSIGN" attest --key "$work/cosign.key" --type slsaprovenance1 --predicate predicate.json \
	--tlog-upload=false --new-bundle-format=false --use-signing-config=false \
	--allow-http-registry -y "$reg/app@$digest"
"$CRANE" manifest --insecure "$reg/app:sha256-${digest#sha256:}.att" | jq . >legacy.manifest.json
"$CRANE" blob --insecure "$reg/app@$(jq -r '.layers[0].digest' legacy.manifest.json)" >legacy.layer.json

"$COSIGN" attest --key "$work/cosign.key" --type slsaprovenance1 --predicate predicate.json \
	--signing-config "$work/sc.json" --allow-http-registry -y "$reg/app@$digest"
referrer=$("$ORAS" discover --plain-http --format json "$reg/app@$digest" |
	jq -r '[.. | objects | select(.artifactType? == "application/vnd.dev.sigstore.bundle.v0.3+json") | .digest][0]')
"$CRANE" blob --insecure "$reg/app@$("$CRANE" manifest --insecure "$reg/app@$referrer" | jq -r '.layers[0].digest')" >image.sigstore.json
