#!/usr/bin/env bash
# Smoke test of ftpsbench against a real ftpsd (make check): every mode
# runs for a few seconds and must finish with zero errors and some work
# done.  Not a timed assertion: rates are printed, never judged.
#   FTPSD=build/server/ftpsd FTPSBENCH=build/tests/bench/ftpsbench \
#       tests/bench/smoke.sh
set -u

ftpsd=${FTPSD:-./server/ftpsd}
bench=${FTPSBENCH:-./tests/bench/ftpsbench}
for f in "$ftpsd" "$bench"; do
	if [ ! -x "$f" ]; then
		echo "smoke: $f is not built" >&2
		exit 99	# automake: hard error
	fi
done
command -v openssl >/dev/null || { echo "smoke: openssl is missing" >&2; exit 99; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ftpsbench-smoke.XXXXXX") || exit 99
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$tmp/certs" "$tmp/home/small"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/certs/smoke.key" -out "$tmp/certs/smoke.crt" -days 2 \
	-subj /CN=localhost 2>/dev/null || { echo "smoke: openssl req failed" >&2; exit 99; }
pass=$(openssl rand -hex 12)
hash=$(printf '%s\n' "$pass" | "$ftpsd" --hash-password) || {
	echo "smoke: ftpsd --hash-password failed" >&2; exit 99; }
printf 'smoke:%s:%s:rw\n' "$hash" "$tmp/home" >"$tmp/users"
head -c $((8 * 1048576)) /dev/urandom >"$tmp/home/big.bin"
for ((i = 0; i < 50; i++)); do
	printf -v f 'f%02d' "$i"
	head -c 4096 /dev/urandom >"$tmp/home/small/$f"
done

listening() {
	local hex
	printf -v hex '%04X' "$1"
	awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp 2>/dev/null
}

# Started by root, ftpsd would switch to run_as_user, which cannot reach
# this root-owned temp folder: keep root (docs/operations.md).
asroot=()
if [ "$(id -u)" -eq 0 ]; then
	asroot=(-o run_as_user=root -o allow_root=on)
fi

# Free loopback ports: a random pick, retried if ftpsd cannot bind.
port=""
for ((try = 0; try < 8; try++)); do
	p=$((20000 + RANDOM % 20000))
	pmin=$((40000 + (RANDOM % 200) * 100))
	if listening "$p" || listening $((p + 1)); then
		continue
	fi
	"$ftpsd" -f "${asroot[@]}" -o listen_addresses=127.0.0.1 \
		-o explicit_port="$p" \
		-o implicit_port=$((p + 1)) -o certs_dir="$tmp/certs" \
		-o certificate=smoke -o users_file="$tmp/users" \
		-o pasv_min_port="$pmin" -o pasv_max_port=$((pmin + 99)) \
		-o max_clients=1000 -o max_clients_per_ip=1000 \
		</dev/null >"$tmp/ftpsd.log" 2>&1 &
	pid=$!
	for ((t = 0; t < 100; t++)); do
		grep -q ready "$tmp/ftpsd.log" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q ready "$tmp/ftpsd.log" && kill -0 "$pid" 2>/dev/null; then
		port=$p
		break
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=""
done
if [ -z "$port" ]; then
	echo "smoke: ftpsd did not start; its log:" >&2
	cat "$tmp/ftpsd.log" >&2
	exit 99
fi

passed=0
failed=0
n=0
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'
}
# check NAME [ftpsbench args...]: exit 0, a result line, errors=0, ok>0.
check() {
	local name=$1 out rc line ok errors
	shift
	n=$((n + 1))
	out=$(FTPSBENCH_PASSWORD=$pass "$bench" "$@" -u smoke -q 2>"$tmp/err")
	rc=$?
	line=$(printf '%s\n' "$out" | grep '^result ')
	ok=$(field "$line" ok)
	errors=$(field "$line" errors)
	if [ $rc = 0 ] && [ -n "$line" ] && [ "$errors" = 0 ] &&
	    [ "${ok:-0}" -gt 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $name: $line"
		return 0
	fi
	failed=$((failed + 1))
	echo "not ok $n - $name: exit $rc: ${line:-no result line}"
	sed 's/^/#   /' "$tmp/err"
	return 1
}
expect() {	# NAME CONDITION-DESCRIPTION then the test as a command
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		passed=$((passed + 1))
		echo "ok $n - $name"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name"
	fi
}

max=(--max-seconds 30)
check "download, explicit, 2 clients x 2" download -p "$port" -f big.bin -c 2 -n 2 "${max[@]}"
check "download, implicit" download -p $((port + 1)) --implicit -f big.bin "${max[@]}"
check "download, TLS 1.2, PASV" download -p "$port" -f big.bin --tls-max 1.2 --pasv "${max[@]}"
check "upload, 2 clients x 2" upload -p "$port" -f 'up-##.bin' -s 4M -c 2 -n 2 "${max[@]}"
expect "upload stored every byte" \
	test "$(cat "$tmp"/home/up-0[0-3].bin | wc -c)" = $((4 * 4 * 1048576))
check "small-files, one session" small-files -p "$port" -f 'small/f##' -n 50 -s 4K "${max[@]}"
# Every data channel of a TLS 1.2 session resumes the same session.
check "small-files, TLS 1.2" small-files -p "$port" -f 'small/f##' -n 20 -s 4K --tls-max 1.2 "${max[@]}"
check "logins, 4 parallel, NOOP probe" logins -p "$port" -n 20 -c 4 --probe "${max[@]}"
check "idle, 50 sessions for 2 s" idle -p "$port" -n 50 -t 2 "${max[@]}"

# Data channels must resume the control session: without it ftpsd
# refuses (data_session_reuse = required), and ftpsbench must say so.
n=$((n + 1))
if FTPSBENCH_PASSWORD=$pass "$bench" download -p "$port" -f big.bin \
    --no-reuse -u smoke -q "${max[@]}" >/dev/null 2>"$tmp/err"; then
	failed=$((failed + 1))
	echo "not ok $n - --no-reuse is refused by ftpsd"
else
	passed=$((passed + 1))
	echo "ok $n - --no-reuse is refused by ftpsd: $(head -n 1 "$tmp/err")"
fi
# SECURITY: the load generator refuses any non-loopback target.
n=$((n + 1))
FTPSBENCH_PASSWORD=x "$bench" logins -H 192.0.2.1 -p 21 >/dev/null 2>"$tmp/err"
if [ $? = 2 ] && grep -q 'not a loopback' "$tmp/err"; then
	passed=$((passed + 1))
	echo "ok $n - a non-loopback address is refused"
else
	failed=$((failed + 1))
	echo "not ok $n - a non-loopback address is refused"
fi
expect "ftpsd still running" kill -0 "$pid"
expect "procstat reads ftpsd" sh -c "'$bench' procstat $pid | grep -q '^procs=1 '"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
