"""Why a focus item comes back, in plain words for the agent: the ladder of DESIGN section 5,
told from the item's state and its last outcome. No database, no clock."""

from flask_babel import gettext as _
from flask_babel import ngettext

from coachapp.scheduling import CLOSED, RECHECK_DAYS, SUSTAINED, ItemState, Ladder, Outcome


def why_it_comes_back(state: ItemState, ladder: Ladder, last: Outcome | None) -> list[str]:
    """A few sentences: why the next check comes when it does, then why checks come back at all."""
    if state.status == CLOSED:
        return [_("It held at every check for months, so it is closed: no more checks.")]
    gap = ladder.gaps[state.level]
    match last:
        case None:
            lines = [
                ngettext(
                    "Something new is easiest to forget in the first days, so your manager "
                    "looks again after %(num)d day.",
                    "Something new is easiest to forget in the first days, so your manager "
                    "looks again after %(num)d days.",
                    ladder.gaps[0],
                )
            ]
        case Outcome.SLIPPED:
            lines = [
                ngettext(
                    "It slipped at the last check and was coached again, so the next check "
                    "comes soon, after %(num)d day: right after a slip is when practice "
                    "helps most.",
                    "It slipped at the last check and was coached again, so the next check "
                    "comes soon, after %(num)d days: right after a slip is when practice "
                    "helps most.",
                    RECHECK_DAYS,
                )
            ]
        case Outcome.PARTLY if state.resume_level is not None:
            lines = [
                ngettext(
                    "It went partly at the last check, shortly after a slip, so your manager "
                    "looks again soon, after %(num)d day.",
                    "It went partly at the last check, shortly after a slip, so your manager "
                    "looks again soon, after %(num)d days.",
                    RECHECK_DAYS,
                )
            ]
        case Outcome.PARTLY:
            lines = [
                ngettext(
                    "It went partly at the last check, so the next check comes after the same "
                    "gap as before, about %(num)d day.",
                    "It went partly at the last check, so the next check comes after the same "
                    "gap as before, about %(num)d days.",
                    gap,
                )
            ]
        case Outcome.SUSTAINED:
            lines = [
                ngettext(
                    "It held at the last check, so the checks move further apart: the next "
                    "one about %(days)d days after it.",
                    "It held at the last %(num)d checks, so the checks move further apart: "
                    "the next one about %(days)d days after the last.",
                    state.streak,
                    days=gap,
                )
            ]
        case _:
            lines = [
                _(
                    "The situation did not come up at the last check, so your manager looks "
                    "again on the next working day."
                )
            ]
    if state.status == SUSTAINED:
        lines.append(
            _("It has held for eight weeks. A few more checks, further apart, make sure it stays.")
        )
    lines.append(
        _(
            "Each time it holds, the next check comes later (after %(gaps)s days). New habits "
            "take about two months to settle, and coming back to them is what makes them stick. "
            "It is not a score.",
            gaps=", ".join(str(g) for g in ladder.gaps),
        )
    )
    return lines
