"""The sale screen's seat holds and seat states (``plugins.tickets.ui.boxoffice``).

A click on a free seat holds it for this terminal (``SalesService.hold`` with the tab's own hold
token); unselecting it, picking another session or *Cancel* releases it. Holds and releases go
one call at a time, in order, whatever the clicks do meanwhile. The session's seat states are
read again every ``refresh_ms`` and after each sale; only the seats whose state changed are
repainted, and a hold that lapsed or grew old is taken again (``SeatHolds``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from suite.errors import SuiteError

if TYPE_CHECKING:
    from plugins.tickets.ui.boxoffice import BoxOfficeTab

log = logging.getLogger(__name__)


def states_changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, str]:
    """Seat id -> new state for every seat whose state differs (a seat left out is free)."""
    changed = {sid: state for sid, state in after.items() if before.get(sid, "free") != state}
    changed.update({sid: "free" for sid, state in before.items() if state != "free" and sid not in after})
    return changed


class SeatHolds:
    """The holds of ``tab``'s token on the seats selected on its map, kept in step with the
    selection, and the seat states the sales service last reported for the tab's session."""

    def __init__(self, tab: BoxOfficeTab) -> None:
        self.tab = tab
        self.server_states: dict[str, str] = {}      # the last picture the sales service gave (never mutated)
        self.held: set[str] = set()                  # seats this tab holds (as far as it knows)
        self.held_since: float | None = None         # monotonic time of the oldest hold still running
        self.renew = False                           # the next sync holds every seat of the cart again
        self.syncing = False
        self.release_all = False                     # the next sync lets go of every hold of the tab's token
        self.sync_epoch = 0                          # holds and releases done: older state pictures are moot
        self.fetching = False

    def forget(self) -> None:
        """Another session: nothing held there yet, its states not read yet."""
        self.held = set()
        self.server_states = {}

    # ------------------------------------------------------------------ seat states

    def refresh_states(self) -> None:
        """Read the session's seat states now (and again every ``refresh_ms``)."""
        tab = self.tab
        tab.schedule("refresh", tab.refresh_ms, self.refresh_states)
        if tab.session is None or self.fetching or tab.canvas.seat_map is None or not tab.on_screen():
            return
        self.fetching = True
        code, epoch, generation = tab.session["code"], self.sync_epoch, tab.session_generation
        before = self.server_states
        sales, actor, token = tab.sales, tab.actor, tab.hold_token

        def work() -> tuple[dict[str, str], dict[str, str]]:
            states = sales.seat_states(actor, code, hold_token=token)["states"]
            return states, states_changed(before, states)      # the comparison off the Tk thread too

        def done(found: tuple[dict[str, str], dict[str, str]]) -> None:
            self.fetching = False
            if not tab.winfo_exists() or generation != tab.session_generation:
                return
            if epoch != self.sync_epoch:        # holds moved meanwhile: this picture is older than they are
                tab.schedule("refresh", 50, self.refresh_states)
                return
            states, changed = found
            self.server_states = states
            self.apply_states(changed)
            self._keep_holds(states)

        def failed(exc: BaseException) -> None:
            self.fetching = False
            if tab.winfo_exists() and generation == tab.session_generation:
                log.warning("seat states of %s not read: %s", code, exc)

        tab.context.run_in_thread(work, done, failed)

    def _keep_holds(self, states: Mapping[str, str]) -> None:
        """Holds last ``hold_minutes``: the cart's are taken again when half of that has gone, and
        at once when one has lapsed (the seat is free again for everybody). Seats of the cart not
        held yet (a hold that failed) are tried again."""
        if self.syncing:
            return
        lapsed = {sid for sid in self.held if states.get(sid, "free") == "free"}
        minutes = int(getattr(getattr(self.tab.sales, "settings", None), "hold_minutes", 0) or 10)
        old = self.held_since is not None and time.monotonic() - self.held_since > minutes * 30
        if lapsed or (old and self.held):
            self.held -= lapsed
            self.renew = True
        if self.renew or self.release_all or set(self.tab.canvas.selected_ids) != self.held:
            self.sync()

    def apply_states(self, changed: Mapping[str, str]) -> None:
        """Show the states the sales service reported. A seat held with this tab's token that is
        no longer wanted (its release on the way) does not jump back into the selection."""
        if not changed:
            return
        canvas = self.tab.canvas
        wanted = set(canvas.selected_ids)
        shown: dict[str, str] = {}
        for seat_id, state in changed.items():
            if state == "mine" and seat_id not in wanted and canvas.state_of(seat_id) != "mine":
                state = "free"
            if self.tab.checkout.outcome_unknown and seat_id in wanted and state in ("sold", "held"):
                continue        # maybe sold by the order whose answer was lost: the cart stays for the retry
            shown[seat_id] = state
        self.tab.view.set_states(shown)

    # ------------------------------------------------------------------ holds

    def sync(self) -> None:
        """Make the holds match the selection: one call at a time, releases first."""
        tab = self.tab
        if self.syncing or tab.session is None:
            return
        canvas = tab.canvas
        wanted = set(canvas.selected_ids)
        renew = self.renew and bool(wanted)
        to_hold = sorted(wanted if renew else wanted - self.held, key=lambda s: canvas.cell_of(s) or (0, 0))
        to_release = sorted(self.held - wanted)
        release_all = self.release_all
        self.renew = False
        if not (to_hold or to_release or release_all):
            return
        self.syncing = True
        self.release_all = False
        code, generation = tab.session["code"], tab.session_generation
        sales, actor, token = tab.sales, tab.actor, tab.hold_token

        def work() -> BaseException | None:
            if release_all:
                sales.release(actor, session_code=code, token=token)
            elif to_release:
                sales.release(actor, session_code=code, token=token, seat_ids=to_release)
            if to_hold:
                try:
                    sales.hold(actor, session_code=code, seat_ids=to_hold, token=token)
                except SuiteError as exc:
                    return exc
            return None

        def finish(again: bool = True) -> None:
            self.syncing = False
            self.sync_epoch += 1
            if not tab.winfo_exists():
                return
            if generation != tab.session_generation:     # another session since: let this one go
                self.release_everything(code)
                again = True
            if again:           # the selection may have moved on meanwhile (after a failure: at the next change)
                self.sync()

        def done(refused: BaseException | None) -> None:
            if tab.winfo_exists() and generation == tab.session_generation:
                self.held -= set(to_release)
                if release_all:
                    self.held = set()
                if refused is None:
                    if renew or not self.held:
                        self.held_since = time.monotonic()
                    self.held |= set(to_hold)
                else:
                    self._hold_refused(refused, to_hold)
                if not self.held:
                    self.held_since = None
            finish()

        def failed(exc: BaseException) -> None:
            if tab.winfo_exists() and generation == tab.session_generation:
                if not isinstance(exc, SuiteError):
                    log.error("holding seats failed", exc_info=exc)
                tab.message.error(exc)
                if release_all:
                    self.release_all = True             # tried again with the next change
            finish(again=False)

        tab.context.run_in_thread(work, done, failed)

    def _hold_refused(self, exc: BaseException, tried: list[str]) -> None:
        """A seat picked was taken meanwhile (or the session cannot sell): those seats leave the
        selection, the refusal shows, the map is read again."""
        tab = self.tab
        seats = exc.details.get("seats") if isinstance(exc, SuiteError) else None
        taken = {str(s) for s in seats} if isinstance(seats, list) and seats else set(tried)
        keep = [sid for sid in tab.canvas.selected_ids if sid not in taken]
        tab.canvas.select(keep)
        tab.view.set_states({})            # the information line follows the selection
        tab.cart.follow(keep)
        tab.message.error(exc)
        tab.set_enabled()
        self.refresh_states()

    def release_everything(self, code: str) -> None:
        """Let go of every seat this tab holds in session ``code`` (off the Tk thread)."""
        tab = self.tab
        sales, actor, token = tab.sales, tab.actor, tab.hold_token

        def failed(exc: BaseException) -> None:
            log.warning("holds of %s not released: %s", code, exc)

        tab.context.run_in_thread(lambda: sales.release(actor, session_code=code, token=token), None, failed)
