"""The appointment screen over the clinic group: what a practitioner waits for before treating.

    .venv/bin/python bench/bench_appointment.py [--data /tmp/bench-1m | --url …] [--repeat 200]

Timed: the screen's load (``appointments.appointment_screen``: the appointment, every package covering its
treatment with used / booked / remaining per step and expiry, the step-gap check, the client's membership
and the booking's deposit), for a booked appointment of the client with the longest package ledger in the
group. Baseline, in the same run: the raw SQL that reads the same remaining sessions (the step counters of
that client's packages, one statement by the DB-API cursor).
"""

from __future__ import annotations

from common import Report, data_url, parser, row, samples  # isort: skip

from sqlalchemy import event, text  # noqa: E402

from aestheticc_pos.clock import SystemClock  # noqa: E402
from aestheticc_pos.services import appointments as appointments_service  # noqa: E402
from aestheticc_pos.services.context import Services  # noqa: E402
from aestheticc_pos.store.db import create_engine_for  # noqa: E402
from aestheticc_pos.store.migrate import upgrade_to_head  # noqa: E402
from aestheticc_pos.store.unit_of_work import UnitOfWorkFactory  # noqa: E402

BUSIEST_BOOKING = text(
    "SELECT a.id FROM appointments a JOIN session_ledger l ON l.client_package_id = a.client_package_id "
    "WHERE a.status = 'booked' GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1"
)
REMAINING = text(
    "SELECT s.client_package_id, s.position, "
    "s.sessions + s.adjusted - s.redeemed - s.reserved - s.refunded AS remaining, cp.expires_on "
    "FROM appointments a JOIN client_packages cp ON cp.client_id = a.client_id "
    "JOIN client_package_steps s ON s.client_package_id = cp.id WHERE a.id = :id"
)


def main() -> int:
    p = parser(__doc__)
    p.set_defaults(repeat=200)
    args = p.parse_args()
    url = data_url(args)
    upgrade_to_head(url)
    engine = create_engine_for(url)
    services = Services(uow=UnitOfWorkFactory(engine), clock=SystemClock())
    report = Report("appointment_screen", url.split("@")[-1])
    try:
        with engine.connect() as connection:
            appointment_id = connection.scalar(BUSIEST_BOOKING)

        def raw() -> None:
            with engine.connect() as connection:
                connection.execute(REMAINING, {"id": appointment_id}).all()

        def screen() -> None:
            appointments_service.appointment_screen(services, appointment_id)

        listed = _statements(engine, screen)
        statements = len(listed)
        report.extra["statements"] = [" ".join(s.split())[:120] for s in listed]
        times, base_times = [], []
        for _ in range(max(1, args.repeat // 20)):  # interleaved, so both see the same load on the machine
            base_times += samples(raw, 20, warm_up=1)
            times += samples(screen, 20, warm_up=1)
        figure = row(
            "Appointment screen (remaining sessions)",
            times,
            "raw SQL of the step counters",
            base_times,
            target="≤ 3× raw",
            note=f"{statements} statements",
        )
        figure.met = figure.ratio <= 3
        report.add(figure)
    finally:
        engine.dispose()
    report.write()
    return 0


def _statements(engine, work) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


if __name__ == "__main__":
    raise SystemExit(main())
