"""The client list model: a correct Qt model (qtmodeltester) that only ever fetches the pages it is asked for.

No database and no threads: a loader makes rows from ids and records what it was asked for.
"""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTableView

from aestheticc_pos.services.clients import ClientSummary
from aestheticc_pos.ui.models.clients import (
    CLIENT_ID_ROLE,
    GONE,
    LOADING,
    ClientListModel,
    phone_text,
)

PAGE = 50


class RecordingLoader:
    """Makes a client for every id it is asked about (except erased ones) and remembers every request."""

    def __init__(self, erased: frozenset[str] = frozenset()) -> None:
        self.requests: list[list[str]] = []
        self.erased = erased

    def __call__(self, ids: list[str]) -> dict[str, ClientSummary]:
        self.requests.append(list(ids))
        return {i: _summary(i) for i in ids if i not in self.erased}

    @property
    def requested(self) -> set[str]:
        return {i for request in self.requests for i in request}


class DeferredRunner:
    """A runner that holds the work until the test delivers it, as the thread pool would, later."""

    def __init__(self) -> None:
        self.jobs: list[tuple] = []

    def __call__(self, work, on_done, on_error) -> None:
        self.jobs.append((work, on_done, on_error))

    def deliver_all(self) -> None:
        jobs, self.jobs = self.jobs, []
        for work, on_done, _on_error in jobs:
            on_done(work())


def _summary(client_id: str) -> ClientSummary:
    n = int(client_id.removeprefix("c"))
    return ClientSummary(
        id=client_id,
        first_name=f"First{n}",
        last_name=f"Last{n}",
        email=f"client{n}@example.com",
        phone=f"07700{n:06d}",
        date_of_birth=dt.date(1980, 1, 1) + dt.timedelta(days=n % 9000),
        membership="Gold" if n % 2 else "",
        packages=f"Microneedling course of 6: {n % 5} left" if n % 5 else "",
    )


def _ids(count: int) -> list[str]:
    return [f"c{n}" for n in range(count)]


def _text(model: ClientListModel, row: int, column: int = 0) -> str:
    return model.data(model.index(row, column))


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "python-tester"])
def test_the_model_passes_qts_model_tester(qtmodeltester, qtlog, force_py: bool) -> None:
    model = ClientListModel(RecordingLoader(erased=frozenset({"c3"})))
    model.set_ids(_ids(500))
    qtmodeltester.check(model, force_py=force_py)  # the Python tester raises; Qt's logs "FAIL!"
    model.set_ids(_ids(120)[::-1])
    model.set_ids([])
    model.set_ids(_ids(10))
    model.reload()
    assert [r.message for r in qtlog.records if "FAIL" in r.message] == []


def test_rows_show_name_phone_email_date_of_birth_membership_and_packages() -> None:
    model = ClientListModel(RecordingLoader())
    model.set_ids(["c7", "c12"])
    assert model.rowCount() == 2 and model.columnCount() == 6
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)]
    assert headers == ["Name", "Phone", "Email", "Date of birth", "Membership", "Packages"]
    assert [_text(model, 0, c) for c in range(6)] == [
        "First7 Last7",
        "07700 000007",
        "client7@example.com",
        "8 Jan 1980",
        "Gold",
        "Microneedling course of 6: 2 left",
    ]
    assert model.client_id(1) == "c12"
    assert model.data(model.index(1, 2), CLIENT_ID_ROLE) == "c12"
    assert model.row_of("c12") == 1 and model.row_of("nobody") is None
    assert model.rowCount(model.index(0, 0)) == 0  # a table: rows have no children


def test_only_the_page_asked_for_is_fetched_from_100000_ids() -> None:
    loader = RecordingLoader()
    model = ClientListModel(loader, page_size=PAGE)
    model.set_ids(_ids(100_000))
    assert loader.requests == []  # setting ids fetches nothing

    assert _text(model, 0) == "First0 Last0"
    assert _text(model, 49, 2) == "client49@example.com"
    assert loader.requests == [_ids(PAGE)]  # one page, once

    assert _text(model, 73_210) == "First73210 Last73210"
    assert loader.requests[-1] == [f"c{n}" for n in range(73_200, 73_250)]
    assert len(loader.requested) == 2 * PAGE
    assert all(len(request) <= PAGE for request in loader.requests)


def test_the_cache_is_bounded_so_scrolling_everything_never_holds_everything() -> None:
    loader = RecordingLoader()
    model = ClientListModel(loader, page_size=PAGE, max_cached_pages=10)
    model.set_ids(_ids(100_000))
    for row in range(0, 100_000, PAGE):
        model.data(model.index(row, 0))
    assert model.cached_rows == 10 * PAGE
    assert _text(model, 99_999) == "First99999 Last99999"  # still cached: no new request
    requests = len(loader.requests)
    assert _text(model, 0) == "First0 Last0"  # evicted long ago: fetched again
    assert len(loader.requests) == requests + 1


def test_a_table_view_fetches_only_the_rows_it_shows(qtbot) -> None:
    loader = RecordingLoader()
    model = ClientListModel(loader, page_size=PAGE)
    model.set_ids(_ids(100_000))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(1366, 768)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(50)
    assert loader.requested and loader.requested <= set(_ids(PAGE))

    loader.requests.clear()
    view.scrollTo(model.index(60_000, 0), QTableView.ScrollHint.PositionAtTop)
    qtbot.wait(50)
    pages = {int(i[1:]) // PAGE for i in loader.requested}
    assert pages and pages <= {1199, 1200, 1201}
    assert model.cached_rows <= 4 * PAGE


def test_rows_arrive_later_from_a_background_runner_and_are_announced() -> None:
    loader, runner = RecordingLoader(), DeferredRunner()
    model = ClientListModel(loader, run=runner, page_size=PAGE)
    model.set_ids(_ids(1000))
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row())))

    assert _text(model, 120) == LOADING
    assert _text(model, 130, 1) == ""
    assert _text(model, 140) == LOADING  # same page: asked once
    assert len(runner.jobs) == 1
    runner.deliver_all()
    assert changed == [(100, 149)]
    assert _text(model, 120) == "First120 Last120"


def test_a_page_for_an_older_list_is_dropped() -> None:
    loader, runner = RecordingLoader(), DeferredRunner()
    model = ClientListModel(loader, run=runner, page_size=PAGE)
    model.set_ids(_ids(1000))
    model.data(model.index(0, 0))
    model.set_ids(["c900", "c901"])  # a newer search, before the old page came back
    runner.deliver_all()
    assert model.cached_rows == 0
    assert _text(model, 0) == LOADING
    runner.deliver_all()
    assert _text(model, 0) == "First900 Last900"


def test_the_same_ids_again_refetch_without_a_reset() -> None:
    loader = RecordingLoader()
    model = ClientListModel(loader)
    model.set_ids(_ids(10))
    model.data(model.index(0, 0))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.set_ids(_ids(10))
    assert resets == [] and model.cached_rows == 0
    model.data(model.index(0, 0))
    assert len(loader.requests) == 2
    model.set_ids(_ids(11))
    assert resets == [True]


def test_a_client_erased_since_the_search_says_so() -> None:
    model = ClientListModel(RecordingLoader(erased=frozenset({"c2"})))
    model.set_ids(_ids(5))
    assert _text(model, 2) == GONE
    assert _text(model, 2, 1) == ""
    assert model.data(model.index(2, 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.summary(2) is None and model.summary(3).first_name == "First3"


def test_a_failed_page_is_reported_once_and_retried_on_reload() -> None:
    calls: list[list[str]] = []

    def failing_runner(work, on_done, on_error) -> None:
        calls.append([])
        on_error("The client list could not be read. Try again.")

    model = ClientListModel(RecordingLoader(), run=failing_runner)
    failures: list[str] = []
    model.load_failed.connect(failures.append)
    model.set_ids(_ids(10))
    assert _text(model, 0) == LOADING
    assert _text(model, 1) == LOADING
    assert failures == ["The client list could not be read. Try again."]
    assert len(calls) == 1  # not retried on every repaint
    model.reload()
    model.data(model.index(0, 0))
    assert len(calls) == 2


def test_invalid_indexes_and_rows_are_answered_with_nothing() -> None:
    model = ClientListModel(RecordingLoader())
    model.set_ids(_ids(3))
    assert model.data(QModelIndex()) is None
    assert model.summary(99) is None
    assert model.headerData(9, Qt.Orientation.Horizontal) is None
    assert model.flags(QModelIndex()) == Qt.ItemFlag.NoItemFlags
    with pytest.raises(ValueError):
        ClientListModel(RecordingLoader(), page_size=0)


@pytest.mark.parametrize(
    ("digits", "shown"),
    [
        ("07700900123", "07700 900123"),
        ("02079460123", "020 7946 0123"),
        ("0161496012", "01614 96012"),
        ("+33612345678", "+33612345678"),
        (None, ""),
    ],
)
def test_phone_numbers_are_shown_the_way_staff_read_them(digits: str | None, shown: str) -> None:
    assert phone_text(digits) == shown


def test_a_search_page_shows_at_once_and_the_next_is_asked_for_only_near_the_end() -> None:
    loader = RecordingLoader()
    asked: list[int] = []

    def more_from(start: int):  # a search's "next page" loader, as the Clients screen gives one
        def load():
            asked.append(start)
            rows = [_summary(f"c{n}") for n in range(start, min(start + PAGE, 120))]
            return rows, (more_from(start + PAGE) if start + PAGE < 120 else None)

        return load

    model = ClientListModel(loader, page_size=PAGE)
    model.set_page([_summary(f"c{n}") for n in range(PAGE)], more_from(PAGE))
    assert model.rowCount() == PAGE and _text(model, 49) == "First49 Last49"
    assert loader.requests == [] and asked == []  # the rows came with the search
    assert model.canFetchMore()
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.fetchMore()
    model.fetchMore()
    assert asked == [50, 100] and inserted == [(50, 99), (100, 119)]
    assert not model.canFetchMore() and model.rowCount() == 120
    assert _text(model, 119, 4) == "Gold" and loader.requests == []

    model.set_page([_summary("c7")])  # a new search: no more pages
    assert model.rowCount() == 1 and not model.canFetchMore()
