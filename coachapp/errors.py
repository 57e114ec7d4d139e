"""Named domain errors and the one place that maps errors to responses."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from coachapp.extensions import db
from coachapp.htmx import is_fragment_request
from coachapp.refusals import note_reason


class DomainError(Exception):
    """A rule of the domain refused an action; `message` is safe to show to the user."""

    status_code = 409
    message = _l("That could not be done.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(self.message))
        if message:
            self.message = message


class SessionEnded(DomainError):
    message = _l("This shadowing session has already ended.")


class NotAllowed(DomainError):
    status_code = 403
    message = _l("You cannot do that.")


def _error_page(status: int, title: str, message: str) -> tuple[str, int]:
    # An htmx request swaps the answer into part of a page: send the message, not a whole page.
    template = "errors/_message.html" if is_fragment_request() else "errors/error.html"
    return render_template(template, status=status, title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int]:
        return _error_page(error.status_code, str(_l("That could not be done")), str(error.message))

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        note_reason("csrf")
        return _error_page(
            400,
            str(_l("Please try again")),
            str(_l("The form had expired or came from elsewhere. Reload the page and try again.")),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        status = error.code or 500
        titles = {
            400: _l("That request was not understood"),
            401: _l("Please sign in"),
            403: _l("Not allowed"),
            404: _l("Not found"),
            405: _l("Not allowed"),
            413: _l("That was too much to send at once"),
            429: _l("Too many attempts"),
        }
        messages = {
            404: _l("There is nothing here, or it is not yours to see."),
            413: _l("Shorten the text and try again."),
            429: _l("Wait a minute, then try again."),
        }
        title = titles.get(status, _l("Something went wrong"))
        message = messages.get(status, _l("Go back and try again."))
        return _error_page(status, str(title), str(message))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        # The traceback goes to the server log (never to the user); observation text is not in it
        # because we log no request bodies.
        app.logger.exception("unhandled error on %s", type(error).__name__)
        # Whatever the request had written is void; the page is drawn from what was committed.
        db.session.rollback()
        return _error_page(
            500,
            str(_l("Something went wrong")),
            str(_l("Nothing you saved is lost. Try again in a moment.")),
        )
