#!/bin/sh
# Builds brubeck (github.com/github/brubeck, a StatsD server in C; not packaged in Debian) into
# .build/peers/brubeck for .ci/bench/statsd_peers.py.
# Needs its source and that of concurrencykit/ck (a git submodule at commit 1a84d49) as bare git
# directories: BR_GIT and CK_GIT (the agent tool `fetch github:github/brubeck` and
# `fetch github:concurrencykit/ck` put them under /work/.mirror).
# Two edits, made with sed below:
#   - statsd-secure.c: OpenSSL 3 (bookworm) makes HMAC_CTX opaque: allocate it with HMAC_CTX_new.
#   - statsd.c: with "multimsg" > 1, upstream parses all SIM_PACKETS buffers after each recvmmsg,
#     not the `res` that arrived (stale buffers are parsed again); use `res`.
set -e
OUT=$(cd "$(dirname "$0")/../../.." && pwd)/.build/peers
BR=${BR_GIT:-/work/.mirror/github+brubeck/repo}
CK=${CK_GIT:-/work/.mirror/concurrencykit+ck/repo}
apt-get install -y --no-install-recommends build-essential libjansson-dev libmicrohttpd-dev libssl-dev
SRC=$(mktemp -d)
git --git-dir="$BR" archive ebbd222 | tar -x -C "$SRC"
git --git-dir="$CK" archive 1a84d49c3ca794356f015a3391e6d10be98f6a6a | tar -x -C "$SRC/vendor/ck"
cd "$SRC"
sed -i 's/HMAC_CTX ctx;/HMAC_CTX *ctx = HMAC_CTX_new();/; s/HMAC_CTX_init(&ctx);//; s/(&ctx/(ctx/g; s/HMAC_CTX_cleanup(ctx)/HMAC_CTX_free(ctx)/' src/samplers/statsd-secure.c
sed -i 's/brubeck_atomic_add(&statsd->sampler.inflow, SIM_PACKETS);/brubeck_atomic_add(\&statsd->sampler.inflow, res);/' src/samplers/statsd.c
sed -i '/inflow, res);/,/SIM_PACKETS; ++i)/ s/for (i = 0; i < SIM_PACKETS; ++i)/for (i = 0; i < (unsigned int)res; ++i)/' src/samplers/statsd.c
grep -q 'i < (unsigned int)res' src/samplers/statsd.c
make -j2 GIT_SHA=ebbd222
mkdir -p "$OUT" && cp brubeck "$OUT/brubeck"
echo "built $OUT/brubeck"
