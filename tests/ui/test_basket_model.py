"""The basket table model over a quote, without a window (and checked by Qt's model tester)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from aestheticc_pos.domain.benefits import Benefits, MemberDiscount, PackageCredit
from aestheticc_pos.domain.catalogue import ItemKind
from aestheticc_pos.domain.money import Money
from aestheticc_pos.domain.pricing import BasketLine, quote
from aestheticc_pos.ui.models.basket import DISCOUNT, ITEM, NET, PRICE, QUANTITY, REASON, VAT, BasketModel

GBP = Money.parse
DAY = dt.date(2026, 11, 24)
BOTOX = BasketLine(ItemKind.TREATMENT, "tr-botox", "Botox treatment (up to 3 areas)", GBP("250"))
SERUM = BasketLine(ItemKind.PRODUCT, "pr-serum", "Vitamin C serum", GBP("45"), quantity=2)
MICRO = BasketLine(ItemKind.TREATMENT, "tr-micro", "Microneedling", GBP("200"))
GOLD = MemberDiscount("m-1", "Gold", 2000, covers_products=True)
COURSE = PackageCredit(
    "cp-1",
    "Microneedling course of 6",
    "tr-micro",
    step_position=1,
    session_number=3,
    step_sessions=6,
    remaining=4,
    expires_on=dt.date(2027, 6, 1),
)


def _cell(model: BasketModel, row: int, column: int, role: Qt.ItemDataRole = Qt.ItemDataRole.DisplayRole):
    return model.data(model.index(row, column), role)


def test_a_gold_members_basket_shows_every_line_with_its_discount_and_reason(qtmodeltester) -> None:
    model = BasketModel()
    qtmodeltester.check(model)  # empty
    model.set_quote(quote([BOTOX, SERUM, MICRO], Benefits((COURSE,), GOLD), DAY))
    qtmodeltester.check(model)

    assert model.rowCount() == 3 and model.columnCount() == 7
    assert [_cell(model, 0, c) for c in (ITEM, QUANTITY, PRICE, DISCOUNT, REASON, NET, VAT)] == [
        "Botox treatment (up to 3 areas)",
        "1",
        "£250.00",
        "−£50.00",
        "Gold member 20%",
        "£200.00",
        "£33.33",
    ]
    assert [_cell(model, 1, c) for c in (QUANTITY, PRICE, DISCOUNT, NET)] == [
        "2",
        "£45.00",
        "−£18.00",
        "£72.00",
    ]
    assert _cell(model, 2, REASON) == "Package: Microneedling course of 6, session 3 of 6"
    assert (_cell(model, 2, DISCOUNT), _cell(model, 2, NET), _cell(model, 2, VAT)) == (
        "−£200.00",
        "£0.00",
        "£0.00",
    )
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert all(
        _cell(model, 0, c, Qt.ItemDataRole.TextAlignmentRole) == right for c in (PRICE, DISCOUNT, NET, VAT)
    )
    assert model.headerData(NET, Qt.Orientation.Horizontal) == "Net"


def test_only_a_line_a_package_covers_has_a_use_package_box(qtmodeltester, qtbot) -> None:
    model = BasketModel()
    qtmodeltester.check(model)
    model.set_quote(quote([BOTOX, MICRO], Benefits((COURSE,)), DAY))

    checkable = Qt.ItemFlag.ItemIsUserCheckable
    assert not model.flags(model.index(0, REASON)) & checkable
    assert model.flags(model.index(1, REASON)) & checkable
    assert _cell(model, 1, REASON, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert _cell(model, 0, REASON, Qt.ItemDataRole.CheckStateRole) is None

    # Unticking asks the view to re-price; the row keeps the quote it shows until the new one arrives.
    with qtbot.waitSignal(model.package_choice_changed) as choice:
        assert model.setData(
            model.index(1, REASON), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
        )
    assert choice.args == [1, False]
    assert _cell(model, 1, NET) == "£0.00"


def test_a_declined_session_keeps_its_box_unticked_and_names_the_package(qtmodeltester, qtbot) -> None:
    model = BasketModel()
    qtmodeltester.check(model)
    declined = BasketLine(ItemKind.TREATMENT, "tr-micro", "Microneedling", GBP("200"), use_package=False)
    model.set_quote(quote([declined], Benefits((COURSE,)), DAY), offers={0: COURSE})

    assert _cell(model, 0, REASON, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert _cell(model, 0, REASON) == "Use package: Microneedling course of 6"
    assert _cell(model, 0, NET) == "£200.00"
    with qtbot.waitSignal(model.package_choice_changed) as choice:
        model.setData(model.index(0, REASON), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert choice.args == [0, True]


def test_quantity_edits_are_asked_for_and_nonsense_is_refused(qtmodeltester, qtbot) -> None:
    model = BasketModel()
    qtmodeltester.check(model)
    model.set_quote(quote([SERUM], Benefits(), DAY))

    assert model.flags(model.index(0, QUANTITY)) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(0, NET)) & Qt.ItemFlag.ItemIsEditable
    assert _cell(model, 0, QUANTITY, Qt.ItemDataRole.EditRole) == 2
    with qtbot.waitSignal(model.quantity_changed) as changed:
        assert model.setData(model.index(0, QUANTITY), 3)
    assert changed.args == [0, 3]
    with qtbot.assertNotEmitted(model.quantity_changed):
        assert not model.setData(model.index(0, QUANTITY), 0)
        assert not model.setData(model.index(0, QUANTITY), "two")
        assert not model.setData(model.index(0, PRICE), "£1.00")


def test_a_new_quote_of_the_same_lines_updates_the_rows_in_place(qtmodeltester, qtbot) -> None:
    model = BasketModel()
    qtmodeltester.check(model)
    model.set_quote(quote([BOTOX], Benefits(), DAY))
    with qtbot.waitSignal(model.dataChanged), qtbot.assertNotEmitted(model.modelReset):
        model.set_quote(quote([BOTOX], Benefits(member_discount=GOLD), DAY))
    assert _cell(model, 0, NET) == "£200.00"
    with qtbot.waitSignal(model.modelReset):
        model.set_quote(quote([BOTOX, SERUM], Benefits(), DAY))
    assert model.rowCount() == 2
    with qtbot.waitSignal(model.modelReset):
        model.set_quote(None)
    assert model.rowCount() == 0 and model.quote is None
