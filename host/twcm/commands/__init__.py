"""The `twcm` sub-commands: one module each, with a register(subparsers)."""
