# Operations tests (docs/operations.md): systemd notifications and socket
# activation, reload, shutdown, privilege drop, xferlog, make install.
AM_TESTS_ENVIRONMENT += \
	abs_top_builddir='$(abs_top_builddir)'; export abs_top_builddir; \
	MAKE='$(MAKE)'; export MAKE;

OPS_TESTS = tests/integration/test_ops.py tests/integration/test_install.py
TESTS += $(OPS_TESTS)
EXTRA_DIST += $(OPS_TESTS)
