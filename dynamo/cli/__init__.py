"""The `dynamo` command: one subcommand per module of this package."""
