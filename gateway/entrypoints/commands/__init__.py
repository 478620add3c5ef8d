"""Sub-commands of the `gateway` command line that live in their own modules.

Each module offers ``register(app: typer.Typer) -> None``, which ``gateway.entrypoints.cli`` calls.
"""
