"""One way for every tool to fail on an expected error: one clear message on stderr and a non-zero exit, no traceback.

Expected errors are the ones a user causes and can fix: a missing config / data / checkpoint file, a checkpoint of
another model, a misspelt config key, an unwritable work dir, a malformed annotation file. Library code raises them
as the usual exception types with a message that names the file and the problem (``FileNotFoundError``,
``ValueError``, :class:`UsageError` ...); :func:`run_main` turns them into::

    error: checkpoint work_dirs/x/iter_8.pth does not match the model built from the config — ...

and exit status 2. Anything else (a bug) keeps its traceback. A tool's ``main(argv)`` is decorated with
:func:`command`, which calls it through :func:`run_main`. ``DENSENETS_DEBUG=1`` in the environment brings the
traceback back for expected errors too.

mmengine's ``Registry.build`` re-raises a constructor's error as ``type(e)(f"class `X` in ...: {e}")`` — the message
is kept, the type too, so the same rule applies to errors raised while the Runner builds datasets and hooks.
"""
from __future__ import annotations

import functools
import os
import sys
from typing import Callable, Sequence

DEBUG_ENV = "DENSENETS_DEBUG"
EXIT_EXPECTED = 2


class UsageError(Exception):
    """An error the user can fix (bad argument, bad config, bad input file); the message says what and where."""


def expected_errors() -> tuple[type[BaseException], ...]:
    """The exception types reported without a traceback (see the module docstring)."""
    from .checkpoint import CheckpointReadError  # noqa: PLC0415
    from .state_dict import CheckpointMismatchError  # noqa: PLC0415

    return (UsageError, CheckpointMismatchError, CheckpointReadError, FileNotFoundError, NotADirectoryError,
            IsADirectoryError, PermissionError, ValueError, KeyError)


def _is_expected(err: BaseException) -> bool:
    # a KeyError whose message is a bare key is a bug (a failed lookup), not a message for the user; mmengine's
    # "X is not in the densenets::model registry" and ours are sentences
    if isinstance(err, KeyError) and not isinstance(err, tuple(t for t in expected_errors() if t is not KeyError)):
        return bool(err.args) and " " in str(err.args[0])
    return True


def format_error(err: BaseException) -> str:
    """``error: <message>``; a ``KeyError``'s message is unquoted, chained causes that add information are kept."""
    msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    msg = str(msg).strip() or type(err).__name__
    return f"error: {msg}"


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)``; an expected error prints :func:`format_error` and returns :data:`EXIT_EXPECTED`."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return int(main(argv) or 0)
    except expected_errors() as err:
        if debug or not _is_expected(err):
            raise
        print(format_error(err), file=sys.stderr)
        print(f"(set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_EXPECTED


def command(main: Callable[[Sequence[str] | None], int | None]) -> Callable[[Sequence[str] | None], int]:
    """Decorate a tool's ``main(argv)`` so that every call goes through :func:`run_main` (tests call it in-process,
    ``sys.exit(main())`` on the command line)."""

    @functools.wraps(main)
    def tool_main(argv: Sequence[str] | None = None) -> int:
        return run_main(main, argv)

    return tool_main
