"""New incident and new request (with the catalogue item's own fields)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea

from itsm_tui.context import DeskContext
from itsm_tui.data import directory
from itsm_tui.desk import tickets
from itsm_tui.desk.catalogue_forms import FormFieldRefused
from itsm_tui.desk.errors import DeskError
from itsm_tui.desk.records import get_article, priority_matrix
from itsm_tui.domain.priority import DEFAULT_MATRIX, priority_for, priority_label
from itsm_tui.domain.workflow import INCIDENT, REQUEST
from itsm_tui.i18n import _
from itsm_tui.screens import keys
from itsm_tui.screens.detail import desk_of
from itsm_tui.screens.forms.base import (
    DeskForm,
    FormInvalid,
    field_text,
    required_text,
)
from itsm_tui.screens.forms.suggestions import LINK, REPLY, ArticleSuggestions
from itsm_tui.screens.text import printable
from itsm_tui.screens.widgets.footer import DeskFooter

# The levels a new ticket starts at: a draft keeps impact and urgency only when changed.
DEFAULT_LEVEL = 3
# A catalogue field's text box is `item-<field name>`.
ITEM_FIELD = "item-"
# The draft's record of the suggested article chosen: "KB0000012 link".
SUGGESTION_CHOICE = "kb-suggestion"
# The keys that act on the suggested articles.
SUGGESTION_ACTIONS = frozenset(
    b.action for b in (keys.SUGGESTIONS_OPEN, keys.SUGGESTION_LINK, keys.SUGGESTION_REPLY)
)
# Narrower than this, the suggestions sit under the form (as a strip) instead of beside it.
SUGGESTIONS_BESIDE = 120


class NewTicketForm(DeskForm):
    """Open an incident or a request; the priority the matrix gives shows as you choose."""

    reads_choices = True
    BINDINGS: ClassVar[list[BindingType]] = [
        *DeskForm.BINDINGS,
        keys.SUGGESTIONS_OPEN,
        keys.SUGGESTION_LINK,
        keys.SUGGESTION_REPLY,
    ]

    class SetupLoaded(Message):
        def __init__(self, matrix: list[list[int]], choices: directory.FormChoices) -> None:
            super().__init__()
            self.matrix = matrix
            self.choices = choices

    LEVELS: ClassVar[list[tuple[str, int]]] = [
        (_("1 high"), 1),
        (_("2 medium"), 2),
        (_("3 low"), 3),
    ]

    def __init__(self, ticket_type: str = "incident", *, item: str | None = None) -> None:
        super().__init__(None, None)
        self.ticket_type = ticket_type
        # The item chosen on the catalogue screen: it wins over a draft's item.
        self.preselected_item = item
        self.matrix: list[list[int]] | None = None
        self.choices: directory.FormChoices | None = None
        self.item_fields: list[dict[str, Any]] = []
        # The service and item a draft chose, until their lists arrive.
        self._choices_to_restore: dict[str, str] = {}
        # Catalogue answers by field name, kept while their item is not on screen (the
        # draft's, until the lists arrive; the last item's, when another is chosen): an
        # item chosen again, or one asking the same thing, gets them back.
        self._answers_kept: dict[str, str] = {}
        # The field the agent was in when the suggested articles were opened: back there
        # once they close.
        self._field_before_articles: Widget | None = None

    @property
    def draft_key(self) -> tuple[str, str | None]:
        return (f"NewTicketForm.{self.ticket_type}", None)

    def title_text(self) -> Text:
        self.heading = _("New request") if self.ticket_type == REQUEST else _("New incident")
        return super().title_text()

    def compose_fields(self) -> ComposeResult:
        yield Label(_("Title"), classes="field-label")
        yield Input(compact=True, id="new-title", placeholder=_("what is wrong, in a line"))
        with Horizontal(classes="levels"):
            with Vertical():
                yield Label(_("Impact"), classes="field-label")
                yield Select(
                    compact=True,
                    options=self.LEVELS,
                    id="new-impact",
                    value=DEFAULT_LEVEL,
                    allow_blank=False,
                )
            with Vertical():
                yield Label(_("Urgency"), classes="field-label")
                yield Select(
                    compact=True,
                    options=self.LEVELS,
                    id="new-urgency",
                    value=DEFAULT_LEVEL,
                    allow_blank=False,
                )
            with Vertical(id="new-priority-box"):
                yield Label(_("Priority"), classes="field-label")
                yield Static("…", id="new-priority")
        if self.ticket_type == REQUEST:
            yield Label(_("Catalogue item"), classes="field-label")
            yield Select(compact=True, options=[], id="new-item", prompt=_("choose an item"))
            yield Vertical(id="new-item-fields")
        yield Label(_("Service"), classes="field-label")
        yield Select(compact=True, options=[], id="new-service", prompt=_("none"))
        yield Label(_("Requester e-mail"), classes="field-label")
        yield Input(compact=True, id="new-requester", placeholder="name@example.com")
        yield Label(_("Description"), classes="field-label")
        yield TextArea(id="new-description", classes="body")

    def on_mount(self) -> None:
        if self.ticket_type == INCIDENT:
            self.suggestions: ArticleSuggestions | None = ArticleSuggestions()
            self.mount(self.suggestions, before=self.query_one(DeskFooter))
            self._place_suggestions()
        else:
            self.suggestions = None
        super().on_mount()
        self._load_setup(desk_of(self.app))

    # -- knowledge articles suggested while the incident is written

    def on_resize(self) -> None:
        # Placed first: fitting the body counts the panel's lines under the form.
        self._place_suggestions()
        super().on_resize()

    def _place_suggestions(self) -> None:
        panel = getattr(self, "suggestions", None)
        if panel is None:
            return
        panel.place(self.size.width < SUGGESTIONS_BESIDE)
        focused = self.focused
        if panel.under and not panel.opened and focused is not None and panel in focused.ancestors:
            # Narrowed to the closed strip while in the list: back to the form.
            self._back_from_articles()

    def _fit_body(self) -> None:
        super()._fit_body()
        panel = getattr(self, "suggestions", None)
        if panel is not None and panel.lines_under:
            # Under the form, the panel's lines are the form's no more.
            body = self.query_one("#form-body")
            body.styles.max_height = max(3, int(body.styles.max_height.value) - panel.lines_under)

    def action_open_suggestions(self) -> None:
        """Under the form: open the strip into the list (focused), or close it again. Beside
        the form: into the list, or back to the field."""
        panel = self.suggestions
        if panel is None:
            return
        listing = panel.query_one("#kb-suggestion-list", OptionList)
        going_in = not panel.opened if panel.under else not listing.has_focus
        if going_in:
            self._field_before_articles = self.focused
        if panel.under:
            panel.set_opened(going_in)
            self._fit_body()
        if going_in:
            listing.focus()
        else:
            self._back_from_articles()

    def _back_from_articles(self) -> None:
        back = self._field_before_articles
        self._field_before_articles = None
        if back is not None and back.is_attached:
            back.focus()
        else:
            self.query_one("#new-title").focus()

    @on(Input.Changed, "#new-title")
    @on(TextArea.Changed, "#new-description")
    def _written(self) -> None:
        if getattr(self, "suggestions", None) is not None:
            title = self.query_one("#new-title", Input).value
            description = self.query_one("#new-description", TextArea).text
            self.suggestions.written(f"{title}\n{description}")

    def _choose_suggestion(self, how: str) -> None:
        if self.suggestions is None:
            return
        if self.suggestions.choose(how) is None:
            self.show_message(_("No article is suggested yet: write what is wrong first."))
        else:
            self._text_changed()  # the choice is part of the draft

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Articles are suggested to incidents only: a request's footer and help leave their
        # keys out (one class holds both forms, so the bindings cannot be left out instead).
        if action in SUGGESTION_ACTIONS and self.ticket_type != INCIDENT:
            return False
        return super().check_action(action, parameters)

    def action_link_suggestion(self) -> None:
        self._choose_suggestion(LINK)

    def action_reply_with_suggestion(self) -> None:
        self._choose_suggestion(REPLY)

    @work(thread=True, exclusive=True, group="form-choices")
    def _load_setup(self, ctx: DeskContext) -> None:
        try:
            with ctx.store.read() as session:
                matrix = priority_matrix(session)
                choices = directory.form_choices(session)
        except SQLAlchemyError as exc:
            self.post_message(self.ChoicesUnread(str(exc)))
            return
        self.post_message(self.SetupLoaded(matrix, choices))

    @on(SetupLoaded)
    def _on_setup(self, message: SetupLoaded) -> None:
        self.matrix = message.matrix
        self.choices = message.choices
        self.query_one("#new-service", Select).set_options(
            (printable(s, single_line=True), s) for s in message.choices.services
        )
        if self.ticket_type == REQUEST:
            self.query_one("#new-item", Select).set_options(
                (printable(f"{c.code} — {c.name}", single_line=True), c.code)
                for c in message.choices.catalogue
            )
        # The draft's service and item, if the desk still has them (else they stay in the
        # draft, on disk, rather than vanish).
        restore = self._choices_to_restore
        if self.preselected_item is not None:
            restore["new-item"] = self.preselected_item
            chosen = next(
                (c for c in message.choices.catalogue if c.code == self.preselected_item), None
            )
            title = self.query_one("#new-title", Input)
            if chosen is not None and not title.value.strip():
                # As `itsm catalog request` does: the item's name until a title is typed.
                title.value = chosen.name
        service = restore.get("new-service")
        if service in message.choices.services:
            self.query_one("#new-service", Select).value = service
            del restore["new-service"]
        item = restore.get("new-item")
        if self.ticket_type == REQUEST and item in {c.code for c in message.choices.catalogue}:
            # Its fields mount (with the draft's answers) as the Select reports the change.
            self.query_one("#new-item", Select).value = item
            del restore["new-item"]
        self._show_priority()
        self.choices_arrived()

    @property
    def levels(self) -> tuple[int, int]:
        impact = self.query_one("#new-impact", Select).value
        urgency = self.query_one("#new-urgency", Select).value
        return (
            impact if isinstance(impact, int) else 3,
            urgency if isinstance(urgency, int) else 3,
        )

    @property
    def priority(self) -> str:
        impact, urgency = self.levels
        return priority_label(priority_for(impact, urgency, self.matrix or DEFAULT_MATRIX))

    @on(Select.Changed, "#new-impact, #new-urgency")
    def _show_priority(self) -> None:
        if self.matrix is None:
            return
        label = self.priority
        box = self.query_one("#new-priority", Static)
        box.update(Text(label, style="bold"))
        for p in ("P1", "P2", "P3", "P4"):
            box.set_class(p == label, f"-{p.lower()}")

    # -- drafts: the choices and the catalogue answers come back too

    def draft_choices(self) -> dict[str, str]:
        choices: dict[str, str] = {}
        for widget_id in ("new-impact", "new-urgency"):
            level = self.query_one(f"#{widget_id}", Select).value
            if level != DEFAULT_LEVEL and level != Select.NULL:
                choices[widget_id] = str(level)
        for widget_id in ("new-service", "new-item"):
            chosen = self.query(f"#{widget_id}")
            if chosen and chosen.first(Select).value != Select.NULL:
                choices[widget_id] = str(chosen.first(Select).value)
        for name, answer in self._answers_kept.items():
            if answer:
                choices[ITEM_FIELD + name] = answer
        if getattr(self, "suggestions", None) is not None and self.suggestions.chosen:
            choices[SUGGESTION_CHOICE] = " ".join(self.suggestions.chosen)
        return {**self._choices_to_restore, **choices}

    def restore_choices(self, draft: dict[str, str]) -> None:
        for widget_id in ("new-impact", "new-urgency"):
            level = draft.get(widget_id, "")
            if level.isdigit() and int(level) in {value for _label, value in self.LEVELS}:
                self.query_one(f"#{widget_id}", Select).value = int(level)
        # The lists of services and items are read after the mount; their fields then.
        self._choices_to_restore = {
            k: v for k, v in draft.items() if k in ("new-service", "new-item")
        }
        self._answers_kept = {
            k.removeprefix(ITEM_FIELD): v for k, v in draft.items() if k.startswith(ITEM_FIELD)
        }
        number, _space, how = draft.get(SUGGESTION_CHOICE, "").partition(" ")
        if self.suggestions is not None and number and how in (LINK, REPLY):
            self.suggestions.restore((number, how))

    def _item_answers(self) -> dict[str, str]:
        """The answers typed in the catalogue fields on screen, by field name."""
        answers: dict[str, str] = {}
        for field in self.item_fields:
            found = self.query(f"#{ITEM_FIELD}{field['name']}")
            if found:
                answers[str(field["name"])] = found.first(Input).value
        return answers

    @on(Select.Changed, "#new-item")
    def _item_chosen(self, event: Select.Changed) -> None:
        box = self.query_one("#new-item-fields", Vertical)
        self._answers_kept.update(self._item_answers())
        box.remove_children()
        self.item_fields = []
        if self.choices is None or event.value == Select.NULL:
            return
        item = next((c for c in self.choices.catalogue if c.code == event.value), None)
        if item is None:
            return
        self.item_fields = list(item.form)
        widgets: list[Widget] = []
        for field in item.form:
            label = str(field.get("label") or field.get("name"))
            if field.get("required"):
                label += " *"
            widgets.append(Label(label, classes="field-label", markup=False))
            answer = self._answers_kept.pop(str(field["name"]), "")
            widgets.append(Input(answer, compact=True, id=f"{ITEM_FIELD}{field['name']}"))
        box.mount_all(widgets)

    def collect(self) -> dict[str, Any]:
        title = required_text(self, "new-title", _("a title"))
        impact, urgency = self.levels
        service = self.query_one("#new-service", Select).value
        values: dict[str, Any] = {
            "title": title,
            "impact": impact,
            "urgency": urgency,
            "service": None if service == Select.NULL else service,
            "requester": field_text(self, "new-requester").strip() or None,
            "description": field_text(self, "new-description"),
            "catalogue_item": None,
            "form_data": None,
        }
        if self.ticket_type == REQUEST:
            item = self.query_one("#new-item", Select).value
            if item == Select.NULL:
                raise FormInvalid(_("choose a catalogue item"), "new-item")
            values["catalogue_item"] = item
            answers: dict[str, str] = {}
            for field in self.item_fields:
                widget_id = f"{ITEM_FIELD}{field['name']}"
                answer = field_text(self, widget_id)
                if field.get("required") and not answer.strip():
                    raise FormInvalid(
                        _("{what} is required").format(what=field.get("label") or field["name"]),
                        widget_id,
                    )
                if answer:
                    answers[str(field["name"])] = answer
            values["form_data"] = answers or None
        if getattr(self, "suggestions", None) is not None and self.suggestions.chosen:
            values["suggested_article"] = self.suggestions.chosen
        return values

    def field_refused(self, refused: DeskError) -> str | None:
        return ITEM_FIELD + refused.field if isinstance(refused, FormFieldRefused) else None

    def write(self, session, actor, values, expected_version, now) -> str:  # type: ignore[no-untyped-def]
        values = dict(values)
        suggested = values.pop("suggested_article", None)
        ticket = tickets.create_ticket(session, actor, type=self.ticket_type, now=now, **values)
        if suggested is not None:
            # In the same transaction: refused, the ticket is not opened either.
            number, how = suggested
            if how == LINK:
                tickets.link_ticket(session, actor, ticket.number, article=number, now=now)
            else:
                article = get_article(session, number)
                reply = _("From the knowledge base, {number}: {title}").format(
                    number=article.number, title=article.title
                )
                tickets.add_comment(
                    session, actor, ticket.number, f"{reply}\n\n{article.body}", kind="reply",
                    now=now,
                )  # fmt: skip
        return ticket.number
