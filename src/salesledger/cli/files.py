"""Files that commands read or write (PDFs, logos, layouts): a file that cannot be read or
written is a ``ValidationFailed`` naming it, never a traceback. ``-`` is standard output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from salesledger.domain.errors import ValidationFailed


def no_json_to_stdout(args: argparse.Namespace, output: str | None) -> None:
    """A file written to standard output leaves no room there for the JSON answer."""
    if args.json and output == "-":
        raise ValidationFailed("--json prints its answer on standard output: write the file "
                               "elsewhere (--output FILE)", field="output")


def write_output(data: bytes, output: str) -> str:
    """Write ``data`` to ``output`` (``-``: standard output); returns where it went."""
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return "standard output"
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise ValidationFailed(f"cannot write {output}: {exc.strerror or exc}",
                               field="output") from None
    return output


def read_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {what} {path}: {exc.strerror or exc}",
                               field=what) from None


def read_text(path: str, what: str) -> str:
    try:
        return read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{what} {path} is not UTF-8 text", field=what) from None
