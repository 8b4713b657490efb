# tests/device/ runs on the MicroPython unix port only (tools/test, step "tests/device"): the
# tests need its termios module and a pty pair that tools/test makes and passes in. pytest,
# which collects the rest of tests/, leaves them alone.
collect_ignore_glob = ["test_*.py"]
