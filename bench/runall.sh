#!/usr/bin/env bash
# runall.sh re-runs every measurement of RESULTS.md with one binary, logging
# the machine's load before and after each: the main table, the extra peers
# (the session's size, the floors), the sweep with its chart, and the cost of
# otelrpc. Run it in bench/ on a quiet machine: ./runall.sh [outdir] (default
# results-<time>). It takes about 15 minutes on 2 cores, and a few more for
# the otelrpc peers.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-results-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
go build -o "$out/bench" .
run() {
	local name=$1
	shift
	{
		echo "# $(git rev-parse --short HEAD 2>/dev/null || echo '?') go run . $*"
		echo "# start $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
		"$out/bench" "$@"
		echo "# end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$out/$name.txt" 2>"$out/$name.log"
	cat "$out/$name.txt"
}
run table -rounds 3
run extra -rounds 3 -only sessionrpc-tcp,sessionrpc-tcp-push-1,sessionrpc-tcp-push-10,sessionrpc-tcp-push-100,sessionrpc-tcp-get-1,sessionrpc-tcp-get-10,sessionrpc-tcp-get-100,raw-mux-tcp,raw-mux-tcp-go
run sweep -sweep -rounds 3 -svg "$out/sweep.svg"
run otel -rounds 5 -only sessionrpc-tcp,sessionrpc-tcp-traceparent,sessionrpc-tcp-otel-metrics,sessionrpc-tcp-otel-traces,sessionrpc-tcp-otel-1pct,sessionrpc-tcp-otel-always
echo "results in $out (copy sweep.svg over bench/sweep.svg to update the chart)"
