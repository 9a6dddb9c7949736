"""hymir's errors: every failing call raises a subclass of :class:`Error`.

The C++ library returns a ``hymir::Status`` (a code and a message naming the
place: file, line, field, document id); the bindings raise the class of its
code, so a caller can catch one kind (``except hymir.NotFoundError``) or all
(``except hymir.Error``). ``code`` is the status code's name and ``message``
the C++ message, unchanged.
"""


class Error(Exception):
    """A hymir operation failed: ``code`` (e.g. ``"NotFound"``) and ``message``."""

    code = "Internal"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidArgumentError(Error, ValueError):
    """Bad input from the caller: a malformed query, an unknown field, a wrong dimension."""


class NotFoundError(Error, LookupError):
    """A file, directory, document or key that does not exist."""


class CorruptionError(Error):
    """Stored data fails validation (checksum, format, parse)."""


class IOError(Error):  # noqa: A001 - the status code's name, inside the hymir namespace
    """The operating system refused a read, write or sync."""


class BusyError(Error):
    """A resource is held by someone else (another writer holds the index lock)."""


class NotSupportedError(Error):
    """A valid request this build or index cannot serve."""


class AlreadyExistsError(Error):
    """Creating something that already exists."""


class InternalError(Error):
    """A bug or an unexpected backend failure."""


_BY_CODE = {
    "InvalidArgument": InvalidArgumentError,
    "NotFound": NotFoundError,
    "Corruption": CorruptionError,
    "IOError": IOError,
    "Busy": BusyError,
    "NotSupported": NotSupportedError,
    "AlreadyExists": AlreadyExistsError,
    "Internal": InternalError,
}


def error_class(code: str) -> type:
    """The exception class raised for a status code (``Error`` for an unknown one)."""
    return _BY_CODE.get(code, Error)
