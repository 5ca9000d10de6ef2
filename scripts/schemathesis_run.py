"""Runs the schemathesis CLI with one workaround for a fault of the tool, not of the service.

On CPython 3.11, `ast.parse` can raise SystemError ("AST constructor recursion depth
mismatch") when hypothesis parses a source file to describe a lambda for its reports;
hypothesis only expects SyntaxError there, so the whole run aborts with a "Runtime Error".
The description is cosmetic: when it fails it falls back to "lambda", and nothing about the
requests sent or the checks made changes.
"""

import sys

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _described(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda"


lambda_sources._lambda_description = _described

from schemathesis.cli import schemathesis  # noqa: E402 (after the patch, on purpose)

if __name__ == "__main__":
    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
