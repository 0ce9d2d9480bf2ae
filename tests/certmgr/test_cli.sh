#!/bin/sh
# certmgr's command line, checked with the openssl command itself.
# Run by `make check` from the build directory; CERTMGR may name the
# binary.  Every bad input of issue 3 has a case here: one line on
# stderr naming the file and the problem, exit 1, no partial file.
set -u

CM=${CERTMGR:-$(pwd)/certmgr/certmgr}
case $CM in /*) ;; *) CM=$(pwd)/$CM ;; esac
# certmgr(1) as built beside it (its synopses are made from certmgr).
MAN=${CERTMGR_MAN:-$(dirname "$(dirname "$CM")")/man/certmgr.1}
command -v openssl >/dev/null 2>&1 || { echo "openssl missing"; exit 77; }
[ -x "$CM" ] || { echo "certmgr not built: $CM"; exit 1; }

T=$(mktemp -d /tmp/certmgr-cli.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1
unset FTPSD_CERTS_DIR
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() {	# check DESC COMMAND... : the command must succeed
	d=$1; shift
	if "$@" >/dev/null 2>"$T/err"; then ok; else
		bad "$d"; sed 's/^/    /' "$T/err"; fi
}
# run DESC RC PATTERN COMMAND...: exit RC, PATTERN in the output, and for
# a failure (1) exactly one line on stderr
run() {
	d=$1; want=$2; pat=$3; shift 3
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	n=$(wc -l <"$T/err")
	if [ "$rc" -ne "$want" ]; then
		bad "$d: exit $rc, wanted $want"; sed 's/^/    /' "$T/err"
	elif [ "$want" -eq 1 ] && [ "$n" -ne 1 ]; then
		bad "$d: $n lines on stderr, wanted 1"; sed 's/^/    /' "$T/err"
	elif ! grep -q -- "$pat" "$T/err" "$T/out"; then
		bad "$d: no \"$pat\" in:"; cat "$T/err" "$T/out" | sed 's/^/    /'
	else
		ok
	fi
}
# nothing DIR NAME: no file of NAME (nor a temporary one) in DIR
nothing() {
	if ls -A "$1" 2>/dev/null | grep -q -- "$2"; then
		bad "files of $2 left in $1: $(ls -A "$1" | tr '\n' ' ')"
	else
		ok
	fi
}
has_text() {	# has_text DESC FILE PATTERN
	if grep -q -- "$3" "$2"; then ok; else bad "$1: no \"$3\" in $2"; fi
}
mode_of() { stat -c %a "$1"; }

D="$T/certs"
C() { "$CM" -q -d "$D" "$@"; }

echo "# help and usage"
check "certmgr --help" "$CM" --help
for s in create csr import list show default rename delete verify ca \
    renew export; do
	check "$s --help" "$CM" "$s" --help
done
for s in init sign issue revoke crl list; do
	check "ca $s --help" "$CM" ca "$s" --help
done
run "no subcommand" 2 "usage" "$CM"
run "unknown subcommand" 2 "unknown subcommand" "$CM" frobnicate
run "unknown option" 2 "usage" "$CM" list --frob
run "create without --cn" 2 "--cn CN is required" "$CM" -d "$D" create x

echo "# certs folder from the ftpsd config"
printf 'certs_dir = fromconf\n' >"$T/ftpsd.conf"
check "create with -c CONF" "$CM" -q -c "$T/ftpsd.conf" create cf --cn cf.example.com
[ -f "$T/fromconf/cf.crt" ] && ok || bad "-c CONF: cf.crt not in certs_dir"
printf 'certs_dir = fromconf\nbogus = 1\n' >"$T/bad.conf"
"$CM" -c "$T/bad.conf" list >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && grep -q 'bad.conf:2: unknown key "bogus"' "$T/err" && ok ||
    bad "-c with a bad config: $(cat "$T/err")"
FTPSD_CERTS_DIR="$T/fromenv" "$CM" -q -c "$T/ftpsd.conf" create ce --cn ce.example.com
[ -f "$T/fromconf/ce.crt" ] && ok || bad "-c FILE must win over FTPSD_CERTS_DIR"
FTPSD_CERTS_DIR="$T/fromenv" "$CM" -q create ce --cn ce.example.com
[ -f "$T/fromenv/ce.crt" ] && ok || bad "FTPSD_CERTS_DIR without -c"
rm -rf "$T/fromconf" "$T/fromenv"

echo "# create"
(umask 000 && "$CM" -q -d "$D" create www --cn www.example.com \
    --san DNS:ftp.example.com,IP:127.0.0.1 --country de --org Acme) ||
    bad "create www"
[ "$(mode_of "$D/www.key")" = 600 ] && ok || bad "www.key mode $(mode_of "$D/www.key")"
[ "$(mode_of "$D")" = 700 ] && ok || bad "certs folder mode"
openssl x509 -in "$D/www.crt" -noout -text >"$T/x.txt" || bad "x509 -text"
has_text "CA:FALSE critical" "$T/x.txt" "Basic Constraints: critical"
has_text "CA:FALSE" "$T/x.txt" "CA:FALSE"
has_text "serverAuth" "$T/x.txt" "TLS Web Server Authentication"
has_text "SAN has the CN" "$T/x.txt" "DNS:www.example.com"
has_text "SAN has the IP" "$T/x.txt" "IP Address:127.0.0.1"
has_text "SHA-256" "$T/x.txt" "ecdsa-with-SHA256"
has_text "country upper-cased" "$T/x.txt" "C = DE"
has_text "SKI" "$T/x.txt" "Subject Key Identifier"
[ "$(grep -c 'Extended Key Usage' "$T/x.txt")" = 1 ] && ok || bad "one EKU"
end=$(openssl x509 -in "$D/www.crt" -noout -enddate | cut -d= -f2)
days=$(( ($(date -d "$end" +%s) - $(date +%s) + 3600) / 86400 ))
[ "$days" = 365 ] && ok || bad "default validity $days days"
check "openssl verify self-signed" openssl verify -CAfile "$D/www.crt" "$D/www.crt"
check "openssl req -verify" openssl req -in "$D/www.csr" -noout -verify
check "create rsa:2048" C create rsa --cn rsa.example.com --key rsa:2048 --days 30
openssl x509 -in "$D/rsa.crt" -noout -text | grep -q "Key Encipherment" && ok ||
    bad "RSA key usage"
check "create ed25519" C create ed --cn ed.example.com --key ed25519

echo "# create: bad input"
run "existing NAME" 1 "www.crt: already exists" C create www --cn x.example.com
run "country XX" 1 'country code "XX"' C create bad --cn a.example.com --country XX
run "country EN suggests GB" 1 "did you mean GB" C create bad --cn a.example.com --country EN
check "country UK is reserved, accepted" C create uk --cn uk.example.com --country uk
run "RSA 1024" 1 "security level" C create bad --cn a.example.com --key rsa:1024
run "DSA" 1 "DSA" C create bad --cn a.example.com --key dsa:2048
run "unknown key type" 1 "unknown key type" C create bad --cn a.example.com --key foo:1
run "--days 900" 1 "1 to 825" C create bad --cn a.example.com --days 900
run "--days junk" 1 "number of days" C create bad --cn a.example.com --days 1x
run "bad SAN" 1 "not a valid DNS name" C create bad --cn a.example.com --san DNS:a_b.example.com
run "CN without SAN" 1 "subject alternative name" C create bad --cn "My Server"
run "bad NAME" 1 "certificate name" C create ../evil --cn a.example.com
nothing "$D" "bad"
nothing "$D" '^\..*\.[0-9a-f]\{8\}$'

echo "# csr, list, show, default, rename, delete"
check "csr" C csr pend --cn pend.example.com --key ec:P-384
[ -f "$D/pend.crt" ] && bad "csr wrote a certificate" || ok
"$CM" -d "$D" list >"$T/list.txt" || bad "list"
has_text "list shows pending" "$T/list.txt" "pending"
has_text "list shows self-signed" "$T/list.txt" "self-signed"
"$CM" -d "$D" --json list >"$T/list.json" || bad "list --json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(e["name"]=="www" and e["status"]=="self-signed" for e in d)' "$T/list.json" && ok || bad "list --json parses"
"$CM" -d "$D" show www >"$T/show.txt" || bad "show"
has_text "show fingerprint" "$T/show.txt" "sha256: "
"$CM" -d "$D" --json show www | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["sha256"])==95' && ok || bad "show --json"
run "show unknown" 1 "nope: no such certificate name" C show nope
run "default with many pairs" 1 "no default marked" C default
check "default www" C default www
[ "$(C default)" = "" ] && ok || bad "-q default prints nothing"
[ "$("$CM" -d "$D" default)" = www ] && ok || bad "default reads back"
check "rename" C rename www web
[ "$("$CM" -d "$D" default)" = web ] && ok || bad "default follows rename"
run "rename onto existing" 1 "already exists" C rename web rsa
run "rename unknown" 1 "no such certificate name" C rename nope x
check "rename back" C rename web www
run "delete asks (no terminal)" 1 "not deleted" C delete ed
check "delete --yes" C delete ed --yes
nothing "$D" "^ed\."
run "delete unknown" 1 "no such certificate name" C delete ed --yes

echo "# keys never written through a planted symlink"
echo keep >"$T/victim"
ln -s "$T/victim" "$D/trap.key"
check "create over a symlink (--force)" C create trap --cn trap.example.com --force
[ "$(cat "$T/victim")" = keep ] && ok || bad "victim overwritten"
[ -L "$D/trap.key" ] && bad "trap.key still a symlink" || ok

echo "# FTPSD_CERTS_DIR"
FTPSD_CERTS_DIR="$D" "$CM" list >"$T/env.txt" && grep -q www "$T/env.txt" && ok ||
    bad "FTPSD_CERTS_DIR"

echo "# import"
I="$T/in"
mkdir -p "$I"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$I/cert2.key" \
    -out "$I/bobscert.crt" -subj /CN=bob.example.com -days 30 \
    -addext subjectAltName=DNS:bob.example.com 2>/dev/null
printf 'sekrit\n' >"$I/pw"
printf 'wrong\n' >"$I/badpw"
check "import PEM cert + key" C import "$I/bobscert.crt" "$I/cert2.key"
[ -f "$D/bobscert.key" ] && [ -f "$D/bobscert.crt" ] && ok || bad "key renamed to match the certificate"
[ "$(mode_of "$D/bobscert.key")" = 600 ] && ok || bad "imported key mode"
openssl x509 -in "$I/bobscert.crt" -outform DER -out "$I/b.der"
openssl pkey -in "$I/cert2.key" -outform DER -out "$I/k.der"
check "import DER cert + DER key" C import "$I/b.der" "$I/k.der" --name der
openssl pkcs8 -topk8 -in "$I/cert2.key" -v2 aes-256-cbc -passout "file:$I/pw" -out "$I/enc.key"
check "import encrypted PKCS#8 (file:)" C import "$I/bobscert.crt" "$I/enc.key" --name enc --passin "file:$I/pw"
check "import encrypted PKCS#8 (stdin)" sh -c "C() { \"$CM\" -q -d \"$D\" \"\$@\"; }; C import '$I/bobscert.crt' '$I/enc.key' --name enc2 --passin stdin <'$I/pw'"
check "import encrypted PKCS#8 (fd:)" sh -c "\"$CM\" -q -d \"$D\" import '$I/bobscert.crt' '$I/enc.key' --name enc3 --passin fd:7 7<'$I/pw'"
grep -q ENCRYPTED "$D/enc.key" && bad "stored key still encrypted" || ok
openssl pkcs8 -topk8 -in "$I/cert2.key" -v2 aes-256-cbc -passout "file:$I/pw" -outform DER -out "$I/enc.der"
check "import encrypted DER PKCS#8" C import "$I/b.der" "$I/enc.der" --name encder --passin "file:$I/pw"
openssl rsa -in "$I/cert2.key" -aes256 -passout "file:$I/pw" -traditional -out "$I/trad.key" 2>/dev/null
check "import legacy-encrypted traditional key" C import "$I/bobscert.crt" "$I/trad.key" --name trad --passin "file:$I/pw"
cat "$I/cert2.key" "$I/bobscert.crt" >"$I/combined.pem"
check "import combined PEM" C import "$I/combined.pem"
openssl pkcs12 -export -in "$I/bobscert.crt" -inkey "$I/cert2.key" -passout "file:$I/pw" -out "$I/bob.p12"
check "import PKCS#12" C import "$I/bob.p12" --passin "file:$I/pw" --name p12
openssl pkcs12 -export -legacy -in "$I/bobscert.crt" -inkey "$I/cert2.key" -passout "file:$I/pw" -out "$I/old.pfx" 2>/dev/null &&
    check "import legacy (RC2/3DES) .pfx" C import "$I/old.pfx" --passin "file:$I/pw" --name oldpfx

# A chain: root -> intermediate -> leaf, all in one PEM after the key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$I/root.key" -out "$I/root.crt" -subj /CN=Root -days 30 \
    -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$I/int.key" -out "$I/int.csr" -subj /CN=Intermediate 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\n' >"$I/ca.ext"
openssl x509 -req -in "$I/int.csr" -CA "$I/root.crt" -CAkey "$I/root.key" \
    -CAcreateserial -out "$I/int.crt" -days 30 -extfile "$I/ca.ext" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$I/leaf.key" -out "$I/leaf.csr" -subj /CN=leaf.example.com 2>/dev/null
printf 'subjectAltName=DNS:leaf.example.com\n' >"$I/leaf.ext"
openssl x509 -req -in "$I/leaf.csr" -CA "$I/int.crt" -CAkey "$I/int.key" \
    -CAcreateserial -out "$I/leaf.crt" -days 20 -extfile "$I/leaf.ext" 2>/dev/null
cat "$I/root.crt" "$I/leaf.crt" "$I/int.crt" >"$I/bundle.pem"
check "import with chain" C import "$I/bundle.pem" "$I/leaf.key" --name chained
[ "$(grep -c BEGIN "$D/chained.chain")" = 2 ] && ok || bad "NAME.chain holds 2"
openssl x509 -in "$D/chained.chain" -noout -subject | grep -q Intermediate && ok ||
    bad "chain starts with the leaf's issuer"
check "verify with chain" C verify chained --ca "$I/root.crt" --host leaf.example.com
run "verify wrong host" 1 "hostname mismatch" C verify chained --ca "$I/root.crt" --host evil.example.com
run "verify unknown root" 1 "chained.crt: verification failed: self-signed certificate in certificate chain" C verify chained

echo "# import: a crafted PEM block name cannot write terminal escapes"
printf -- '-----BEGIN FUZZ\033[31m THING-----\nAAAA\n-----END FUZZ\033[31m THING-----\n' >"$T/esc.pem"
run "escape in a PEM block name" 1 'FUZZ\\x1b\[31m THING' C import "$T/esc.pem"
if LC_ALL=C grep -q "$(printf '\033')" "$T/err"; then bad "ESC byte in certmgr's error"; else ok; fi

echo "# import: bad input"
run "import existing" 1 "already exists" C import "$I/bobscert.crt" "$I/cert2.key"
check "import --force" C import "$I/bobscert.crt" "$I/cert2.key" --force
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$I/other.key"
run "key/cert mismatch" 1 "other.key: the private key does not match" C import "$I/bobscert.crt" "$I/other.key" --name mm
head -c 400 "$I/bobscert.crt" >"$I/trunc.crt"
run "truncated PEM" 1 "trunc.crt: truncated or corrupt PEM" C import "$I/trunc.crt" "$I/cert2.key" --name tr
echo "not a certificate" >"$I/junk.crt"
run "wrong format" 1 "junk.crt: not a certificate" C import "$I/junk.crt" "$I/cert2.key" --name junk
run "wrong passphrase (PKCS#8)" 1 "enc.key: wrong passphrase" C import "$I/bobscert.crt" "$I/enc.key" --name wp --passin "file:$I/badpw"
run "wrong passphrase (PKCS#12)" 1 "bob.p12: wrong passphrase" C import "$I/bob.p12" --name wp --passin "file:$I/badpw"
if command -v setsid >/dev/null 2>&1; then
	run "encrypted key, no terminal" 1 "no terminal" setsid -w "$CM" -q -d "$D" import "$I/bobscert.crt" "$I/enc.key" --name wp
fi
run "passphrase in argv" 2 "visible to other users" C import "$I/bobscert.crt" "$I/enc.key" --name wp --passin pass:sekrit
run "missing file" 1 "nofile.crt: No such file" C import "$I/nofile.crt"
run "no key anywhere" 1 "no private key given" C import "$I/root.crt" --name rootonly
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$I/weak.key" -out "$I/weak.crt" -subj /CN=weak -days 3 2>/dev/null
run "RSA 1024 import" 1 "weak.key: RSA key of 1024 bits" C import "$I/weak.crt" "$I/weak.key"
openssl req -x509 -newkey rsa:2048 -sha1 -nodes -keyout "$I/sha1.key" -out "$I/sha1.crt" -subj /CN=sha1 -days 3 2>/dev/null
run "SHA-1 import" 1 "sha1.crt: signed with SHA1" C import "$I/sha1.crt" "$I/sha1.key"
openssl dsaparam -genkey -out "$I/dsa.key" 2048 2>/dev/null
openssl req -x509 -key "$I/dsa.key" -out "$I/dsa.crt" -subj /CN=dsa -days 3 2>/dev/null
run "DSA import" 1 "DSA keys are refused" C import "$I/dsa.crt" "$I/dsa.key"
for n in mm tr junk wp rootonly weak sha1 dsa; do nothing "$D" "^$n\."; done
nothing "$D" '^\..*\.[0-9a-f]\{8\}$'

echo "# csr answered by an outside CA: the folder's key is used"
openssl x509 -req -in "$D/pend.csr" -CA "$I/root.crt" -CAkey "$I/root.key" \
    -CAcreateserial -out "$I/answer.crt" -days 20 2>/dev/null
check "import the answer" C import "$I/answer.crt"
[ -f "$D/pend.crt" ] && [ ! -f "$D/answer.crt" ] && ok || bad "answer imported as pend"

echo "# private CA"
check "ca init (encrypted, CRL URL)" C ca init --cn "Unit Root CA" --org Acme \
    --country FR --crl-url http://crl.example.com/root.crl --passout "file:$I/pw"
CA="$D/ca"
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$CA/ca.key" && ok || bad "CA key PKCS#8 encrypted"
[ "$(mode_of "$CA/ca.key")" = 600 ] && ok || bad "CA key mode"
openssl x509 -in "$CA/ca.crt" -noout -text >"$T/ca.txt"
has_text "CA:TRUE critical" "$T/ca.txt" "CA:TRUE"
has_text "keyCertSign" "$T/ca.txt" "Certificate Sign, CRL Sign"
run "ca init twice" 1 "holds a CA already" C ca init --cn Again
run "ca sign: wrong CA passphrase" 1 "ca.key: wrong passphrase" C ca sign www --passin "file:$I/badpw"
check "ca sign NAME (replaces self-signed)" C ca sign www --passin "file:$I/pw"
check "openssl verify -CAfile ca.crt" openssl verify -CAfile "$CA/ca.crt" "$D/www.crt"
openssl x509 -in "$D/www.crt" -noout -text >"$T/w.txt"
has_text "CRL distribution point" "$T/w.txt" "URI:http://crl.example.com/root.crl"
has_text "SANs copied from the CSR" "$T/w.txt" "DNS:ftp.example.com"
has_text "AKI" "$T/w.txt" "Authority Key Identifier"
check "ca issue --client" C ca issue alice --cn alice --client --email alice@example.com --passin "file:$I/pw"
openssl x509 -in "$D/alice.crt" -noout -text >"$T/a.txt"
has_text "clientAuth" "$T/a.txt" "TLS Web Client Authentication"
has_text "client SAN e-mail" "$T/a.txt" "email:alice@example.com"
check "verify client" C verify alice --purpose client
run "verify client as server" 1 "unsuitable certificate purpose" C verify alice --purpose server
# A request asking for CA:TRUE and a bad extra extension still gets CA:FALSE.
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$I/evil.key" \
    -out "$I/evil.csr" -subj /CN=evil.example.com \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
check "ca sign a CSR file" C ca sign "$I/evil.csr" --passin "file:$I/pw"
openssl x509 -in "$D/evil.crt" -noout -text >"$T/e.txt"
has_text "CSR's CA:TRUE ignored" "$T/e.txt" "CA:FALSE"
grep -q "Certificate Sign" "$T/e.txt" && bad "CSR key usage copied" || ok
[ -f "$D/evil.csr" ] && ok || bad "signed request kept as NAME.csr"
printf 'subjectAltName=DNS:bad_name.example.com\n' >"$I/badsan.cnf"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$I/bs.key" \
    -out "$I/badsan.csr" -subj /CN=ok.example.com \
    -addext subjectAltName=DNS:bad_name.example.com 2>/dev/null
run "CSR with a bad SAN" 1 "badsan.csr: requested SAN DNS:bad_name" C ca sign "$I/badsan.csr" --passin "file:$I/pw"
openssl req -newkey rsa:1024 -nodes -keyout "$I/w.key" -out "$I/weak.csr" -subj /CN=w.example.com 2>/dev/null
run "CSR with RSA 1024" 1 "weak.csr: RSA key of 1024" C ca sign "$I/weak.csr" --passin "file:$I/pw"
run "ca sign --days 900" 1 "1 to 825" C ca sign "$I/evil.csr" --name e2 --days 900 --passin "file:$I/pw"
run "ca sign unknown" 1 "no such request file" C ca sign nosuch --passin "file:$I/pw"
nothing "$D" "^badsan\."
nothing "$D" "^weak\."
nothing "$D" "^e2\."

echo "# openssl ca reads the database"
serial=$(openssl x509 -in "$D/www.crt" -noout -serial | cut -d= -f2)
(cd "$CA" && openssl ca -config openssl.cnf -status "$serial") >"$T/st.txt" 2>&1
has_text "openssl ca -status" "$T/st.txt" "$serial=Valid"
[ -f "$CA/newcerts/$serial.pem" ] && ok || bad "newcerts/SERIAL.pem"
"$CM" -d "$D" ca list >"$T/calist.txt" || bad "ca list"
has_text "ca list" "$T/calist.txt" "$serial"
"$CM" -d "$D" --json ca list | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==3' && ok || bad "ca list --json"

echo "# revoke and CRL"
run "ca crl, nothing revoked yet" 0 "crl.pem: 0 revoked, next update" \
    "$CM" -d "$D" ca crl --passin "file:$I/pw"
aserial=$(openssl x509 -in "$D/alice.crt" -noout -serial | cut -d= -f2)
check "ca revoke NAME" C ca revoke alice --reason keyCompromise
run "ca revoke again" 1 "already revoked" C ca revoke alice
run "ca revoke bad reason" 2 "use one of" C ca revoke www --reason because
run "ca revoke unknown" 1 "neither a NAME" C ca revoke no-such-thing
check "ca crl" C ca crl --days 7 --passin "file:$I/pw"
openssl crl -in "$CA/crl.pem" -noout -text >"$T/crl.txt" || bad "openssl crl"
has_text "CRL lists the revoked serial" "$T/crl.txt" "Serial Number: $aserial"
has_text "CRL reason" "$T/crl.txt" "Key Compromise"
check "CRL signature" openssl crl -in "$CA/crl.pem" -noout -CAfile "$CA/ca.crt"
run "openssl verify -crl_check: revoked" 2 "certificate revoked" \
    openssl verify -crl_check -CAfile "$CA/ca.crt" -CRLfile "$CA/crl.pem" "$D/alice.crt"
run "certmgr verify --crl: revoked" 1 "certificate revoked" C verify alice --purpose client --crl "$CA/crl.pem"
(cd "$CA" && openssl ca -config openssl.cnf -status "$aserial") >"$T/st.txt" 2>&1
has_text "openssl ca sees the revocation" "$T/st.txt" "$aserial=Revoked"

echo "# renew"
check "renew CA-signed" C renew www --days 30 --passin "file:$I/pw"
nserial=$(openssl x509 -in "$D/www.crt" -noout -serial | cut -d= -f2)
[ "$nserial" != "$serial" ] && ok || bad "renew kept the serial"
grep "$serial" "$CA/index.txt" | grep -q "superseded" && ok || bad "old serial superseded"
check "renewed verifies" openssl verify -CAfile "$CA/ca.crt" "$D/www.crt"
check "renew self-signed" C renew rsa --days 10
check "renewed self-signed verifies" openssl verify -CAfile "$D/rsa.crt" "$D/rsa.crt"
run "renew outside CA's" 1 "not by this folder's CA" C renew chained --passin "file:$I/pw"
run "renew unknown" 1 "no such certificate" C renew nope

echo "# export"
check "export --pkcs12" C export www --pkcs12 "$T/www.p12" --passout "file:$I/pw"
[ "$(mode_of "$T/www.p12")" = 600 ] && ok || bad "p12 mode"
openssl pkcs12 -info -in "$T/www.p12" -passin "file:$I/pw" -noout >"$T/p12.txt" 2>&1 || bad "openssl pkcs12 -info"
has_text "p12 AES-256" "$T/p12.txt" "AES-256-CBC"
[ "$(openssl pkcs12 -in "$T/www.p12" -passin "file:$I/pw" -nokeys 2>/dev/null | grep -c BEGIN)" = 2 ] && ok ||
    bad "p12 holds the certificate and the CA"
run "export existing file" 1 "already exists" C export www --pkcs12 "$T/www.p12" --passout "file:$I/pw"
run "export unknown" 1 "needs both" C export nope --pkcs12 "$T/n.p12" --passout "file:$I/pw"
run "export passphrase in argv" 2 "visible" C export www --pkcs12 "$T/n.p12" --passout pass:x
printf 'ab\n' >"$I/short"
run "export short passphrase" 1 "at least 4" C export www --pkcs12 "$T/n.p12" --passout "file:$I/short"
[ -e "$T/n.p12" ] && bad "partial p12" || ok

echo "# 4 parallel ca sign: unique serials"
for i in 1 2 3 4; do C csr "par$i" --cn "par$i.example.com" || bad "csr par$i"; done
for i in 1 2 3 4; do C ca sign "par$i" --passin "file:$I/pw" & done
wait
awk -F'\t' 'NF != 6 { bad = 1 } END { exit bad }' "$CA/index.txt" && ok || bad "index well-formed"
[ "$(cut -f4 "$CA/index.txt" | sort | uniq -d | wc -l)" = 0 ] && ok || bad "duplicate serials"
for i in 1 2 3 4; do
	check "par$i signed" openssl verify -CAfile "$CA/ca.crt" "$D/par$i.crt"
done
[ "$(grep -c par "$CA/index.txt")" = 4 ] && ok || bad "4 rows recorded"

echo "# kill -9 during ca sign leaves the database consistent"
"$CM" -q -d "$D" ca init --ca-dir "$T/kca" --cn "Kill CA" || bad "kill CA"
C csr victim --cn victim.example.com
killed=0
i=0
while [ $i -lt 25 ]; do
	i=$((i + 1))
	"$CM" -q -d "$D" ca sign victim --ca-dir "$T/kca" --force &
	pid=$!
	# 0 to 9 ms: lands anywhere from start-up to the last rename.
	sleep "0.00$((i % 10))"
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
done
awk -F'\t' 'NF != 6 || ($1 != "V" && $1 != "R") { bad = 1 } END { exit bad }' "$T/kca/index.txt" &&
    ok || bad "index.txt well-formed after kills"
[ "$(cut -f4 "$T/kca/index.txt" | sort | uniq -d | wc -l)" = 0 ] && ok || bad "serials unique after kills"
for s in $(cut -f4 "$T/kca/index.txt"); do
	[ -s "$T/kca/newcerts/$s.pem" ] || bad "row $s without newcerts file"
done
(cd "$T/kca" && openssl ca -config openssl.cnf -updatedb) >/dev/null 2>&1 && ok ||
    bad "openssl ca -updatedb reads it"
check "sign after the kills" "$CM" -q -d "$D" ca sign victim --ca-dir "$T/kca" --force
ls -A "$T/kca" | grep -q '^\.index' && bad "temporary file left after a later sign" || ok
echo "    ($killed of 25 killed while running)"

echo "# an expired CA signs nothing"
"$CM" -q -d "$D" ca init --ca-dir "$T/old" --cn "Old CA" || bad "old CA"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$I/v3ca"
openssl req -new -key "$T/old/ca.key" -subj "/CN=Old CA" -out "$I/old.csr"
(cd "$T/old" && openssl ca -batch -config openssl.cnf -selfsign -keyfile ca.key \
    -in "$I/old.csr" -startdate 20200101000000Z -enddate 20200201000000Z \
    -extfile "$I/v3ca" -out ca.crt.new) >/dev/null 2>&1 && mv "$T/old/ca.crt.new" "$T/old/ca.crt" ||
    bad "make an expired CA with openssl ca"
run "expired CA" 1 "ca.crt: the CA certificate expired on 2020-02-01" \
    "$CM" -q -d "$D" ca issue v2 --cn v2.example.com --ca-dir "$T/old"
nothing "$D" "^v2\."

# ---------------------------------------------------------------------------
# Issue 13: the admin's real day.

echo "# revocation shows in list, show and verify"
V="$T/v"
VV() { "$CM" -q -d "$V" "$@"; }
check "ca init" VV ca init --cn "V CA"
check "ca issue client alice_1" VV ca issue alice_1 --client --cn alice_1
check "ca issue server" VV ca issue srv --cn srv.example.com
check "ca revoke" VV ca revoke alice_1 --reason keyCompromise
run "list: revoked, not yet published" 0 "keyCompromise), not yet published: certmgr ca crl" \
    "$CM" -d "$V" list
grep "^  alice_1 " "$T/out" | grep -q " revoked " && ok || bad "list status revoked"
run "verify: revoked in the database" 1 "revoked by the folder's CA on .* (keyCompromise); not yet in its CRL" \
    VV verify alice_1 --purpose client
check "ca crl" VV ca crl
run "list: revoked, in the CRL" 0 "keyCompromise), in ca/crl.pem" "$CM" -d "$V" list
run "show: revoked" 0 "status: *revoked" "$CM" -d "$V" show alice_1
run "openssl agrees: revoked" 2 "certificate revoked" openssl verify -crl_check \
    -CAfile "$V/ca/ca.crt" -CRLfile "$V/ca/crl.pem" -purpose sslclient "$V/alice_1.crt"
run "verify: revoked by the CRL" 1 "certificate revoked" VV verify alice_1 --purpose client
"$CM" -d "$V" --json list | python3 -c 'import json,sys
d = {e["name"]: e for e in json.load(sys.stdin)}
r = d["alice_1"]
assert r["status"] == "revoked" and r["revoked"]["reason"] == "keyCompromise" and r["revoked"]["in_crl"], r
assert d["srv"]["status"] == "ok", d["srv"]' && ok || bad "list --json: revoked, reason, in_crl"
check "the others still verify" VV verify srv --host srv.example.com

echo "# client certificates for real user names"
sans_of() { openssl x509 -in "$1" -noout -text | grep -A1 "Subject Alternative Name" | tail -n +2; }
for cn in alice_2 bob@example.com alice; do
	n=$(echo "$cn" | tr -c 'a-z0-9_\n' _)
	check "ca issue --client --cn $cn" VV ca issue "c$n" --client --cn "$cn"
	openssl x509 -in "$V/c$n.crt" -noout -text >"$T/c.txt"
	has_text "clientAuth ($cn)" "$T/c.txt" "TLS Web Client Authentication"
	grep -q "Subject Alternative Name" "$T/c.txt" && bad "$cn: a SAN nobody asked for" || ok
	openssl x509 -in "$V/c$n.crt" -noout -subject -nameopt RFC2253 | grep -q "CN=$cn\$" && ok ||
	    bad "$cn: subject CN"
done
run "a CN that is no user name" 1 "is the user name it logs in as" VV ca issue cas --client --cn "alice smith"
nothing "$V" "^cas\."
check "--upn and --email" VV ca issue carol --client --cn carol --upn carol@corp.example.com --email carol@example.com
sans_of "$V/carol.crt" >"$T/s.txt"
has_text "UPN SAN" "$T/s.txt" "UPN:.*carol@corp.example.com"
has_text "e-mail SAN" "$T/s.txt" "email:carol@example.com"
check "create --client (self-signed)" VV create bob --cn bob --client
check "openssl: its own trust anchor, client purpose" openssl verify -CAfile "$V/bob.crt" -purpose sslclient "$V/bob.crt"
run "openssl: no server purpose" 2 "unsuitable certificate purpose" openssl verify -CAfile "$V/bob.crt" -purpose sslserver "$V/bob.crt"
run "certmgr verify it" 0 "bob: OK (client)" "$CM" -d "$V" verify bob --purpose client --ca "$V/bob.crt"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$I/dave.key" \
    -out "$I/dave_2.csr" -subj /CN=dave_2 2>/dev/null
check "ca sign --client a request with a user-name CN" VV ca sign "$I/dave_2.csr" --client
openssl x509 -in "$V/dave_2.crt" -noout -text | grep -q "TLS Web Client Authentication" && ok ||
    bad "signed request: clientAuth"
run "the same request as a server" 1 "CN is not a host name" VV ca sign "$I/dave_2.csr" --name dave3

echo "# a CA database that cannot lock itself out"
L="$T/lim"
check "ca init (limits)" "$CM" -q -d "$L" ca init --cn "Full CA"
awk 'BEGIN { for (i = 1; i < 50000; i++)
	printf "V\t301231235959Z\t\t%08X\tfill.crt\t/CN=filler\n", i }' >"$L/ca/index.txt"
[ "$(wc -c <"$L/ca/index.txt")" -gt 1048576 ] && ok || bad "index.txt larger than 1 MiB"
check "sign the 50,000th" "$CM" -q -d "$L" ca issue last --cn last.example.com
pems=$(ls "$L/ca/newcerts" | wc -l)
cp "$L/ca/index.txt" "$T/index.before"
run "the 50,001st is refused before signing" 1 "holds 50000 certificates, the most certmgr keeps" \
    "$CM" -q -d "$L" ca issue over --cn over.example.com
[ "$(ls "$L/ca/newcerts" | wc -l)" = "$pems" ] && ok || bad "newcerts grew on a refusal"
cmp -s "$L/ca/index.txt" "$T/index.before" && ok || bad "index.txt changed on a refusal"
nothing "$L" "^over\."
run "ca list reads it back" 0 "last.crt" "$CM" -d "$L" ca list
[ "$(wc -l <"$T/out")" = 50001 ] && ok || bad "ca list: 50,000 rows"
check "ca revoke reads it back" "$CM" -q -d "$L" ca revoke 0000002A
check "ca crl reads it back" "$CM" -q -d "$L" ca crl
openssl crl -in "$L/ca/crl.pem" -noout -text | grep -q "Serial Number: 2A" && ok || bad "CRL lists 2A"
# The byte limit: 60 bytes short of 32 MiB, read back whole, and no room
# for one more row (serials as certmgr writes them: no leading zeros).
awk 'BEGIN { t = 32 * 1024 * 1024 - 60; pad = sprintf("%1000s", "")
	for (i = 1; n + 1037 <= t; i++) {
		printf "V\t301231235959Z\t\t%08X\tf.crt\t/CN=%s\n",
		    i + 268435456, pad
		n += 1037
	}
	printf "V\t301231235959Z\t\t%08X\tf.crt\t/CN=%s\n", i + 268435456,
	    substr(pad, 1, t - n - 37) }' >"$L/ca/index.txt"
[ "$(wc -c <"$L/ca/index.txt")" = $((32 * 1024 * 1024 - 60)) ] && ok || bad "index.txt of 32 MiB - 60"
pems=$(ls "$L/ca/newcerts" | wc -l)
run "a row past 32 MiB is refused before signing" 1 "would grow past 33554432 bytes, the most certmgr reads" \
    "$CM" -q -d "$L" ca issue over --cn over.example.com
[ "$(ls "$L/ca/newcerts" | wc -l)" = "$pems" ] && ok || bad "newcerts grew at the byte limit"
check "ca list reads 32 MiB back" "$CM" -q -d "$L" ca list
rm -f "$L/ca/index.txt"
# A subject index.txt could not record: refused before signing.
ou=$(printf '%060d' 0 | tr 0 o)
subj="/CN=long.example.com"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17; do subj="$subj/OU=$ou$i"; done
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$I/long.key" \
    -out "$I/long.csr" -subj "$subj" 2>/dev/null
pems=$(ls "$V/ca/newcerts" | wc -l)
cp "$V/ca/index.txt" "$T/index.before"
run "too long a subject: refused before signing" 1 "characters long as .*index.txt records it" \
    VV ca sign "$I/long.csr"
[ "$(ls "$V/ca/newcerts" | wc -l)" = "$pems" ] && ok || bad "newcerts grew on a refused subject"
cmp -s "$V/ca/index.txt" "$T/index.before" && ok || bad "index.txt changed on a refused subject"
nothing "$V" "^long\."
# NAME.crt cannot be written (a directory is in the way): the CA takes
# back the row and the newcerts file it had recorded.
mkdir "$V/blocked.crt"
run "a failed write after signing" 1 "blocked.crt" VV ca issue blocked --cn blocked.example.com --force
[ "$(ls "$V/ca/newcerts" | wc -l)" = "$pems" ] && ok || bad "newcerts kept a certificate never written"
cmp -s "$V/ca/index.txt" "$T/index.before" && ok || bad "index.txt kept a certificate never written"
rmdir "$V/blocked.crt"

echo "# intermediate CAs, CA renewal"
R="$T/root13"
W="$T/w"
WW() { "$CM" -q -d "$W" "$@"; }
check "root CA" VV ca init --ca-dir "$R" --cn "R13 Root"
openssl x509 -in "$R/ca.crt" -noout -text | grep -q "CA:TRUE, pathlen:1" && ok || bad "root pathlen 1"
check "intermediate CA" WW ca init --cn "W Issuing" --intermediate "$R"
openssl x509 -in "$W/ca/ca.crt" -noout -text | grep -q "CA:TRUE, pathlen:0" && ok || bad "intermediate pathlen 0"
check "openssl: intermediate under root" openssl verify -CAfile "$R/ca.crt" "$W/ca/ca.crt"
"$CM" -d "$W" ca list --ca-dir "$R" | grep -q "CN=W Issuing" && ok || bad "root's database records it"
check "leaf of the intermediate" WW ca issue web --cn web.example.com
[ -f "$W/web.chain" ] && ok || bad "web.chain written"
check "openssl: leaf, chain, root" openssl verify -CAfile "$R/ca.crt" -untrusted "$W/web.chain" "$W/web.crt"
check "certmgr verify against the root" WW verify web --ca "$R/ca.crt" --host web.example.com
run "certmgr verify by the folder's CA and its root" 0 \
    "web: OK (server), chain: CN=web.example.com <- CN=W Issuing <- CN=R13 Root" "$CM" -d "$W" verify web
run "list: ok" 0 "web .* ok " "$CM" -d "$W" list
run "ca init on a CA says what to do" 1 "certmgr ca renew renews its certificate with the same key" \
    WW ca init --cn Again
key0=$(openssl x509 -in "$R/ca.crt" -noout -pubkey)
ser0=$(openssl x509 -in "$R/ca.crt" -noout -serial)
check "ca renew (root)" VV ca renew --ca-dir "$R" --days 4000
[ "$(openssl x509 -in "$R/ca.crt" -noout -pubkey)" = "$key0" ] && ok || bad "root renewal kept the key"
[ "$(openssl x509 -in "$R/ca.crt" -noout -serial)" != "$ser0" ] && ok || bad "root renewal: new serial"
check "old intermediate verifies under the renewed root" openssl verify -CAfile "$R/ca.crt" "$W/ca/ca.crt"
run "intermediate renewal needs its root" 1 "give --intermediate ROOTDIR" WW ca renew
check "ca renew (intermediate)" WW ca renew --intermediate "$R"
check "old leaf verifies under the renewed intermediate" openssl verify -CAfile "$R/ca.crt" \
    -untrusted "$W/ca/ca.crt" "$W/web.crt"
# A root of the old kind (pathlen 0) signs no intermediate until renewed.
P0="$T/p0"
check "old root" VV ca init --ca-dir "$P0" --cn "Old Root"
openssl req -x509 -key "$P0/ca.key" -subj "/CN=Old Root" -days 30 -out "$P0/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE,pathlen:0 \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || bad "pathlen 0 root"
run "pathlen 0 root refuses an intermediate" 1 "may sign no other CA (pathlen 0): renew it first" \
    "$CM" -q -d "$T/x0" ca init --cn Sub --intermediate "$P0"
[ ! -e "$T/x0/ca" ] && ok || bad "a refused intermediate left $T/x0/ca"
check "renew the old root" VV ca renew --ca-dir "$P0"
check "now it signs one" "$CM" -q -d "$T/x0" ca init --cn Sub --intermediate "$P0"

echo "# imports that finish the job"
O="$T/o"
check "create (self-signed for now)" "$CM" -q -d "$O" create ocean --cn ocean.example.com
printf 'subjectAltName=DNS:ocean.example.com\nextendedKeyUsage=serverAuth\n' >"$I/ocean.ext"
openssl x509 -req -in "$O/ocean.csr" -CA "$I/int.crt" -CAkey "$I/int.key" -CAcreateserial \
    -out "$I/ocean-answer.crt" -days 20 -extfile "$I/ocean.ext" 2>/dev/null
run "the CA's answer replaces the self-signed, no --force" 0 \
    'issuer "CN=Intermediate" is missing.*certmgr import BUNDLE.pem --name ocean' \
    "$CM" -d "$O" import "$I/ocean-answer.crt"
[ "$(openssl x509 -in "$O/ocean.crt" -noout -fingerprint)" = \
  "$(openssl x509 -in "$I/ocean-answer.crt" -noout -fingerprint)" ] && ok || bad "ocean.crt is the answer"
run "list: incomplete-chain" 0 'incomplete-chain' "$CM" -d "$O" list
run "the bundle alone needs --name" 1 "certmgr import .*int.crt --name NAME" "$CM" -d "$O" import "$I/int.crt"
run "import the bundle" 0 "ocean.chain: 1 certificate after ocean.crt" "$CM" -d "$O" import "$I/int.crt" --name ocean
"$CM" -d "$O" list | grep -q incomplete-chain && bad "still incomplete-chain" || ok
check "openssl verify with the chain" openssl verify -CAfile "$I/root.crt" -untrusted "$O/ocean.chain" "$O/ocean.crt"
check "certmgr verify" "$CM" -q -d "$O" verify ocean --ca "$I/root.crt" --host ocean.example.com
run "a bundle that did not issue it" 1 "none of its certificates issued" \
    "$CM" -d "$O" import "$R/ca.crt" --name ocean

echo "# smaller things"
S="$T/s"
SS() { "$CM" -q -d "$S" "$@"; }
check "create ek" SS create ek --cn ek.example.com
check "create rk" SS create rk --cn rk.example.com --key rsa:2048
cp "$S/rk.key" "$S/ek.key"
run "list: KEY is the .key's own" 0 "ek .*RSA 2048 .*key-mismatch" "$CM" -d "$S" list
run "show: extended key usage" 0 "ext key usage: *serverAuth" "$CM" -d "$S" show rk
check "csr" SS csr pend --cn pend.example.com --san DNS:alt.example.com
run "show: a pending request's subject" 0 "request: *CN=pend.example.com" "$CM" -d "$S" show pend
has_text "show: a pending request's names" "$T/out" "alt names: *DNS:pend.example.com, DNS:alt.example.com"
run "verify: the names a mismatched certificate has" 1 \
    "hostname mismatch .*the certificate names DNS:rk.example.com" \
    SS verify rk --ca "$S/rk.crt" --host other.example.com
run "renew self-signed: who needs the new one" 0 "must be given the new .*rk.crt" "$CM" -d "$S" renew rk
run "a refused key creates no folder" 1 "security level" \
    "$CM" -d "$T/nofolder" create x --cn x.example.com --key rsa:1024
[ ! -e "$T/nofolder" ] && ok || bad "create --key rsa:1024 created the folder"
run "export without a format" 2 "export: --pkcs12 FILE is required" SS export rk
run "create -dash" 2 'NAME missing ("-dash" was read as -d ash' "$CM" create -dash
"$CM" list --help >"$T/lh.txt"
for st in ok expiring expired revoked incomplete-chain key-mismatch missing-key \
    self-signed pending missing-cert key-encrypted unreadable; do
	grep -q -- "$st" "$T/lh.txt" && ok || bad "list --help lacks status $st"
done
# certmgr(1)'s synopses hold every option each --help shows.
if [ -f "$MAN" ]; then
	sed 's/\\-/-/g; s/\\f[BIR]//g' "$MAN" >"$T/man.txt"
	for sub in create csr import list show default rename delete verify renew \
	    export "ca init" "ca renew" "ca sign" "ca issue" "ca revoke" "ca crl" \
	    "ca list"; do
		line=$(grep "^$sub " "$T/man.txt"; grep "^$sub\$" "$T/man.txt")
		[ -n "$line" ] || { bad "certmgr(1): no synopsis of $sub"; continue; }
		# shellcheck disable=SC2086
		for o in $("$CM" $sub --help | sed -n '1,/^$/p' | grep -o -- '--[a-z0-9-]*' |
		    grep -v -- '--json'); do
			echo "$line" | grep -q -- "$o" && ok ||
			    bad "certmgr(1): $sub synopsis lacks $o"
		done
	done
else
	bad "certmgr(1) not built: $MAN"
fi

echo "# root writing into the service user's folder (issue 11)"
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	S="$T/svc"
	grp=$(id -gn nobody)
	chmod 0711 "$T"
	mkdir -m 0700 "$S" && chown nobody:"$grp" "$S"
	"$CM" -q -d "$S" create svc --cn svc.example.org >"$T/out" 2>"$T/err" ||
	    bad "create in nobody's folder: $(cat "$T/err")"
	[ "$(stat -c %U:%G:%a "$S/svc.key")" = "nobody:$grp:600" ] && ok ||
	    bad "svc.key is $(stat -c %U:%G:%a "$S/svc.key"), wanted nobody:$grp:600"
	[ "$(stat -c %U:%G:%a "$S/svc.crt")" = "nobody:$grp:644" ] && ok ||
	    bad "svc.crt is $(stat -c %U:%G:%a "$S/svc.crt"), wanted nobody:$grp:644"
	[ "$(grep -c "belongs to nobody: the files written there are given to nobody" "$T/err")" = 1 ] &&
	    [ "$(wc -l <"$T/err")" = 1 ] && ok || { bad "said once:"; sed 's/^/    /' "$T/err"; }
	# What the service does at its next reload: read them as itself.
	runuser -u nobody -- openssl pkey -in "$S/svc.key" -noout 2>"$T/err" && ok ||
	    bad "nobody reads svc.key: $(cat "$T/err")"
	runuser -u nobody -- openssl x509 -in "$S/svc.crt" -noout -checkend 86400 >/dev/null 2>&1 &&
	    ok || bad "nobody reads svc.crt"
	"$CM" -q -d "$S" renew svc >/dev/null 2>&1 || bad "renew in nobody's folder"
	"$CM" -q -d "$S" default svc >/dev/null 2>&1 || bad "default in nobody's folder"
	for f in svc.crt svc.csr .default; do
		[ "$(stat -c %U "$S/$f")" = nobody ] && ok || bad "$f is $(stat -c %U "$S/$f")'s after renew/default"
	done
	ls -A "$S" | grep -q '^\.svc\.' && bad "temporary file left in $S" || ok
	# root's own folder: nothing changes hands, nothing is said.
	"$CM" -q -d "$D" create rootown --cn rootown.example.org >/dev/null 2>"$T/err" ||
	    bad "create in root's folder"
	[ "$(stat -c %U:%a "$D/rootown.key")" = root:600 ] && ok || bad "rootown.key not root's 0600"
	[ -s "$T/err" ] && bad "said something in root's folder: $(cat "$T/err")" || ok
else
	echo "    (not root, or no user nobody: not checked)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
