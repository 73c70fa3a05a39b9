"""The Sync screen's practice panel (training mode only): make the simulated GoCardless report something.

Staff pick a practice member and what happens to them (the bank moves their Direct Debit to a new mandate, a
chargeback and its cancellation, a payment or subscription refused, a set-up left unfinished…), press "Make it
happen", then see at the next sync what the till does with it, on this screen and on the member's record. The
turns are ``sync/practice.py``'s; the panel runs them off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from aestheticc_pos.sync.practice import TURNS, PracticeMember, PracticeTurns
from aestheticc_pos.ui.desk import Desk

INTRO = (
    "Training only: make the simulated GoCardless report something a real clinic meets now and then, then "
    "press Sync now and see what the till does."
)
NO_MEMBERS = (
    "Sign a practice member up to a membership (and complete their Direct Debit page) to practise here."
)


class PracticePanel(QFrame):
    def __init__(self, desk: Desk, practice: PracticeTurns) -> None:
        super().__init__()
        self.setObjectName("card")
        self.desk = desk
        self.practice = practice
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        title = QLabel("Practise what GoCardless can report")
        title.setObjectName("heading")
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        layout.addWidget(title)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.member = QComboBox()
        self.member.setAccessibleName("Practice member")
        self.member.setMinimumWidth(200)
        self.turn = QComboBox()
        self.turn.setAccessibleName("What happens")
        for turn in TURNS:
            self.turn.addItem(turn.label, turn.key)
        self.go = QPushButton("Make it happen")
        self.go.clicked.connect(self.make_it_happen)
        row.addWidget(self.member)
        row.addWidget(self.turn, 1)
        row.addWidget(self.go)
        layout.addLayout(row)
        self.result = QLabel(NO_MEMBERS)
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self.go.setEnabled(False)

    def refresh(self) -> None:
        self.desk.run(self.practice.members, self._show_members, self._say)

    def _show_members(self, members: list[PracticeMember]) -> None:
        chosen = self.member.currentData()
        self.member.clear()
        for member in members:
            self.member.addItem(member.client_name, member.membership_id)
        again = self.member.findData(chosen)
        if again >= 0:
            self.member.setCurrentIndex(again)
        self.go.setEnabled(bool(members))
        if not members:
            self.result.setText(NO_MEMBERS)
        elif self.result.text() == NO_MEMBERS:
            self.result.setText("")

    def make_it_happen(self) -> None:
        membership_id, turn = self.member.currentData(), self.turn.currentData()
        if not membership_id:
            return
        practice = self.practice

        # Only the simulated GoCardless changed: the till hears of it at the next sync, through its commits.
        self.desk.run(lambda: practice.run(turn, membership_id), self._say, self._say)

    def _say(self, sentence: str) -> None:
        self.result.setText(sentence)
