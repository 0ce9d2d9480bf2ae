# server/harden.mk: hardening (docs/security.md): the failed-login table
# and bans, TLS session-ticket keys, their tests, and the static analysis
# (make lint) and TLS scan (make tls-scan) targets.
