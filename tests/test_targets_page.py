"""The targets and notes page (CONTRACT §10): who may change what, through the page
and through hand-made callback requests; what a save writes, refuses and records;
and that the other pages show a saved target or note at once."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from data_loaders import warehouse as tables
from tests.conftest import (
    ACCOUNTS,
    assert_offline_and_clean,
    browser_login,
    chromium_page,
    wait_for_js,
)
from tests.dash_calls import body, response_props
from tests.dash_requests import callback_body
from tests.leaks import component_values
from tests.test_pages_browser import CONTRAST_FAILURES
from tests.test_roles import ROUTER, audit_count, engine_of

GRID = "targets-edit-grid"
SAVE = "targets-save-button.n_clicks"
NOTE = "targets-note-textarea"
NOTE_SAVE = "targets-note-save-button.n_clicks"
COUNTRY = "targets-country-picker"
PERIOD = "targets-note-period-picker"
SERBIA_2010 = ("RS", "children_reached", "2010")
NEW_TARGET = 54321  # a value no demo target has: easy to find on other pages


@pytest.fixture(autouse=True)
def untouched_warehouse(dash_app):
    """Every test starts from the demo targets and no note, and leaves them so:
    the warehouse is shared with the other test files."""
    engine = engine_of(dash_app)
    with engine.connect() as connection:
        saved = [
            dict(r._mapping) for r in connection.execute(sa.select(tables.targets))
        ]
    yield
    with engine.begin() as connection:
        connection.execute(sa.delete(tables.notes))
        connection.execute(sa.delete(tables.targets))
        connection.execute(sa.insert(tables.targets), saved)


def call(client, output, values, state=None, changed=None):
    """Run the callback with `output` as the renderer would; (status, props)."""
    deps = client.get("/_dash-dependencies").json
    request = body(deps, output, values, state)
    if changed:
        request["changedPropIds"] = [changed]
    answer = client.post("/_dash-update-component", json=request)
    props = response_props(answer.json) if answer.status_code == 200 else {}
    return answer.status_code, props


def load_targets(client, country):
    status, props = call(client, f"{GRID}.rowData", {COUNTRY: country})
    assert status == 200, status
    return props[f"{GRID}.rowData"]


def edited(rows, indicator, year, value):
    """The grid's rows with one cell changed, as a person's edit leaves them."""
    rows = json.loads(json.dumps(rows))
    next(r for r in rows if r["indicator"] == indicator)[f"y{year}"] = value
    return rows


def save_targets(client, country, rows, loaded):
    return call(
        client,
        f"{GRID}.rowData",
        {COUNTRY: country, "targets-save-button": 1},
        {GRID: rows, "targets-loaded-store": loaded},
        changed=SAVE,
    )


def save_note(client, country, text, period="ALL", loaded=None):
    """Save as the page does; `loaded`: the note as the page had loaded it."""
    return call(
        client,
        f"{NOTE}.value",
        {COUNTRY: country, PERIOD: period, "targets-note-save-button": 1},
        {NOTE: text, "targets-note-loaded-store": loaded},
        changed=NOTE_SAVE,
    )


def stored_targets(dash_app, country) -> dict:
    with engine_of(dash_app).connect() as connection:
        rows = connection.execute(
            sa.select(tables.targets).where(tables.targets.c.country == country)
        )
        return {(r.indicator, r.year): r for r in rows}


def audit_records(dash_app, after_id=0) -> list:
    log = tables.audit_log
    with engine_of(dash_app).connect() as connection:
        return list(
            connection.execute(
                sa.select(log).where(log.c.id > after_id).order_by(log.c.id)
            )
        )


def last_audit_id(dash_app) -> int:
    with engine_of(dash_app).connect() as connection:
        return connection.execute(
            sa.select(sa.func.max(tables.audit_log.c.id))
        ).scalar()


def message(props, output) -> str:
    return json.dumps(props[output], ensure_ascii=False)


def change_serbia_2010(client):
    rows = load_targets(client, "RS")
    status, props = save_targets(
        client, "RS", edited(rows, "children_reached", "2010", NEW_TARGET), rows
    )
    assert status == 200, status
    return props


# -- saving targets -------------------------------------------------------------------


def test_a_manager_saves_a_target_and_only_that_cell_is_written(dash_app, login_as):
    before = stored_targets(dash_app, "RS")
    props = change_serbia_2010(login_as("regional_manager"))
    assert "Saved 1 target of Serbia." in message(
        props, "targets-save-message.children"
    )
    rows = props[f"{GRID}.rowData"]  # the grid shows what is now stored
    assert (
        next(r for r in rows if r["indicator"] == "children_reached")["y2010"]
        == NEW_TARGET
    )
    after = stored_targets(dash_app, "RS")
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {("children_reached", "2010")}
    cell = after[("children_reached", "2010")]
    assert (
        cell.value == NEW_TARGET and cell.updated_by == ACCOUNTS["regional_manager"][0]
    )
    assert cell.updated_at > before[("children_reached", "2010")].updated_at


def test_a_saved_target_shows_at_once_on_the_objectives_overview_and_compare_pages(
    dash_app, login_as
):
    manager = login_as("regional_manager")
    # read every page once first, so the old targets sit in the cache
    views = {
        "objectives-status-graph.figure": {
            "objectives-objective-radio": "2",
            "objectives-period-picker": "2010",
            "objectives-countries-checklist": ["RS", "BA"],
        },
        "overview-map-graph.figure": {
            "overview-indicator-picker": "children_reached",
            "overview-period-picker": "2010",
        },
        "compare-grid-graph.figure": {
            "compare-indicator-picker": "children_reached",
            "compare-period-picker": "2010",
            "compare-countries-checklist": ["RS", "BA"],
            "compare-breakdown-radio": "years",
        },
        "country-cards-row.children": {
            "country-country-picker": "RS",
            "country-period-picker": "2010",
            "country-indicator-picker": "children_reached",
            "country-breakdown-radio": "sex",
        },
    }
    for output, values in views.items():
        status, props = call(manager, output, values)
        assert status == 200 and "54,321" not in json.dumps(props), output
    change_serbia_2010(manager)
    # the overview shows the region's target: the seven countries' sum
    region = sum(
        stored_targets(dash_app, c)[("children_reached", "2010")].value
        for c in ("BA", "RS", "ME", "XK", "AL", "RO", "BG")
    )
    shown = {output: "54,321" for output in views}
    shown["overview-map-graph.figure"] = f"of target {region:,}"
    for output, values in views.items():
        status, props = call(login_as("country_lead"), output, values)
        assert status == 200, output
        assert shown[output] in json.dumps(props, ensure_ascii=False), output
    logframe = call(manager, *next(iter(views.items())))[1]
    grid = logframe["objectives-logframe-table.children"]["props"]
    field = {c["headerName"]: c["field"] for c in grid["columnDefs"]}
    serbia = next(
        row
        for row in grid["rowData"]
        if row[field["Country"]] == "Serbia"
        and row[field["Indicator"]] == "Children reached"
    )
    assert serbia[field["Target 2010"]] == NEW_TARGET


def test_a_lead_saves_its_own_country(dash_app, login_as):
    lead = login_as("country_lead")
    props = change_serbia_2010(lead)
    assert "Saved 1 target of Serbia." in message(
        props, "targets-save-message.children"
    )
    cell = stored_targets(dash_app, "RS")[("children_reached", "2010")]
    assert (cell.value, cell.updated_by) == (NEW_TARGET, ACCOUNTS["country_lead"][0])


def test_two_people_editing_at_once_never_overwrite_each_other_unseen(
    dash_app, login_as
):
    manager, lead = login_as("regional_manager"), login_as("country_lead")
    seen_by_lead = load_targets(lead, "RS")  # both open Serbia's targets
    change_serbia_2010(manager)  # the manager saves first
    mine = edited(seen_by_lead, "children_reached", "2010", NEW_TARGET + 5)
    status, props = save_targets(lead, "RS", mine, seen_by_lead)
    assert status == 200
    said = message(props, "targets-save-message.children")
    assert f"Children reached, 2010: now {NEW_TARGET:,} (by test-manager)" in said
    assert "Nothing was saved" in said
    cell = stored_targets(dash_app, "RS")[("children_reached", "2010")]
    assert (cell.value, cell.updated_by) == (
        NEW_TARGET,
        ACCOUNTS["regional_manager"][0],
    )
    assert f"{GRID}.rowData" not in props  # the lead's typing stays in the grid
    # saving again, now knowing, replaces the manager's target
    status, props = save_targets(lead, "RS", mine, props["targets-loaded-store.data"])
    assert "Saved 1 target of Serbia." in message(
        props, "targets-save-message.children"
    )
    cell = stored_targets(dash_app, "RS")[("children_reached", "2010")]
    assert (cell.value, cell.updated_by) == (
        NEW_TARGET + 5,
        ACCOUNTS["country_lead"][0],
    )


def test_a_cell_nobody_else_touched_saves_while_another_was_changed(dash_app, login_as):
    manager, lead = login_as("regional_manager"), login_as("country_lead")
    seen_by_lead = load_targets(lead, "RS")
    change_serbia_2010(manager)
    other = edited(seen_by_lead, "children_reached", "2011", NEW_TARGET + 10)
    status, props = save_targets(lead, "RS", other, seen_by_lead)
    assert "Saved 1 target of Serbia." in message(
        props, "targets-save-message.children"
    )
    stored = stored_targets(dash_app, "RS")
    assert stored[("children_reached", "2010")].value == NEW_TARGET
    assert stored[("children_reached", "2011")].value == NEW_TARGET + 10


def test_a_lead_forging_a_save_for_another_country_gets_403_and_one_record(
    dash_app, login_as
):
    lead = login_as("country_lead")
    rows = load_targets(login_as("admin"), "BA")
    before, mark = stored_targets(dash_app, "BA"), last_audit_id(dash_app)
    status, props = save_targets(
        lead, "BA", edited(rows, "children_reached", "2010", NEW_TARGET), rows
    )
    assert status == 403 and props == {}
    records = audit_records(dash_app, mark)
    assert [(r.action, r.target, r.outcome, r.actor) for r in records] == [
        ("denial", "targets BA", "denied", ACCOUNTS["country_lead"][0])
    ]
    assert stored_targets(dash_app, "BA") == before
    # a note for another country: the same
    mark = last_audit_id(dash_app)
    status, _props = save_note(lead, "BA", "The centre moved.")
    assert status == 403
    assert [r.target for r in audit_records(dash_app, mark)] == ["notes BA"]
    assert (
        call(login_as("admin"), f"{NOTE}.value", {COUNTRY: "BA", PERIOD: "ALL"})[1][
            f"{NOTE}.value"
        ]
        == ""
    )


def test_the_page_offers_only_the_countries_the_account_may_change(dash_app, login_as):
    def offered(role):
        answer = login_as(role).post(
            "/_dash-update-component",
            json=callback_body(dash_app, ROUTER, ["/targets", ""]),
        )
        assert answer.status_code == 200
        values = component_values(answer.json)
        return [o["value"] for o in values[(COUNTRY, "options")]], values[
            (COUNTRY, "value")
        ]

    assert offered("country_lead") == (["RS"], "RS")
    assert offered("regional_manager") == (
        ["BA", "RS", "ME", "XK", "AL", "RO", "BG"],
        "BA",
    )


def test_a_donor_gets_403_for_the_page_and_for_every_callback(dash_app, login_as):
    donor = login_as("donor")
    before = audit_count(dash_app)
    assert donor.get("/targets", headers={"Accept": "text/html"}).status_code == 403
    assert audit_count(dash_app) == before + 1
    for country in ("BA", "RS"):  # its own country too: a donor changes nothing
        rows = load_targets(login_as("admin"), country)
        before, mark = stored_targets(dash_app, country), last_audit_id(dash_app)
        status, _props = save_targets(
            donor, country, edited(rows, "children_reached", "2010", 1), rows
        )
        assert status == 403
        assert status == call(donor, f"{GRID}.rowData", {COUNTRY: country})[0]
        assert save_note(donor, country, "Donor's note.")[0] == 403
        records = audit_records(dash_app, mark)
        assert [r.outcome for r in records] == ["denied"] * 3
        assert stored_targets(dash_app, country) == before
    mark = last_audit_id(dash_app)
    assert call(donor, f"{GRID}.rowData", {COUNTRY: None})[0] == 403
    assert len(audit_records(dash_app, mark)) == 1
    with engine_of(dash_app).connect() as connection:
        assert connection.execute(sa.select(tables.notes)).all() == []


@pytest.mark.parametrize(
    "forged",
    [
        "RS",
        7,
        [1, 2, 3],
        [{"indicator": "children_reached", "y2010": {"$gt": 0}}],
        [{"indicator": "nope", "y2010": 5}, {"y2010": 5}, None],
        [{"indicator": "children_reached", "y2010": 10**30}],
        [{"indicator": "children_reached", "y2010": "9" * 5000}],
        [{"indicator": "children_reached"}] * 50_000,
    ],
)
def test_a_forged_grid_never_errs_and_never_writes_a_bad_value(
    dash_app, login_as, forged
):
    before = stored_targets(dash_app, "RS")
    for loaded in (None, forged, "x"):
        status, _props = save_targets(login_as("admin"), "RS", forged, loaded)
        assert status in (200, 400), (forged, status)
    assert stored_targets(dash_app, "RS") == before


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "“-1”"),
        (1.5, "“1.5”"),
        (1_000_000, "“1000000”"),
        ("twelve", "“twelve”"),
        ("12.000", "“12.000”"),
        (None, "an empty cell"),
        (True, "“True”"),
    ],
)
def test_a_bad_value_is_refused_with_its_indicator_and_year_and_nothing_saved(
    dash_app, login_as, value, shown
):
    manager = login_as("regional_manager")
    rows = load_targets(manager, "RS")
    before, mark = stored_targets(dash_app, "RS"), last_audit_id(dash_app)
    both = edited(
        edited(rows, "media_pieces", "2009", 77), "children_reached", "2011", value
    )
    status, props = save_targets(manager, "RS", both, rows)
    assert status == 200
    text = message(props, "targets-save-message.children")
    assert f"Children reached, 2011: {shown} is not a target." in text
    assert "Nothing was saved." in text
    assert f"{GRID}.rowData" not in props  # what was typed stays, to be corrected
    assert stored_targets(dash_app, "RS") == before  # the valid change neither
    assert [(r.target, r.outcome) for r in audit_records(dash_app, mark)] == [
        ("targets RS", "failed")
    ]


def test_targets_typed_as_text_are_read_as_people_write_them(dash_app, login_as):
    manager = login_as("regional_manager")
    rows = load_targets(manager, "RS")
    typed = edited(rows, "children_reached", "2010", " 12,000 ")
    typed = edited(typed, "media_pieces", "2011", 0)
    status, props = save_targets(manager, "RS", typed, rows)
    assert "Saved 2 targets of Serbia." in message(
        props, "targets-save-message.children"
    )
    stored = stored_targets(dash_app, "RS")
    assert stored[("children_reached", "2010")].value == 12000
    assert stored[("media_pieces", "2011")].value == 0


def test_saving_unchanged_targets_writes_nothing(dash_app, login_as):
    manager = login_as("regional_manager")
    rows = load_targets(manager, "RS")
    before, mark = stored_targets(dash_app, "RS"), last_audit_id(dash_app)
    status, props = save_targets(manager, "RS", rows, rows)
    assert "nothing was saved" in message(props, "targets-save-message.children")
    assert stored_targets(dash_app, "RS") == before
    assert audit_records(dash_app, mark) == []


def test_the_audit_log_names_the_cell_changed_never_the_figure(dash_app, login_as):
    mark = last_audit_id(dash_app)
    manager = login_as("regional_manager")
    change_serbia_2010(manager)
    save_note(manager, "RS", "Secret words 98765 of the team.")
    records = audit_records(dash_app, mark)
    edits = [(r.action, r.target, r.outcome) for r in records if r.action == "edit"]
    assert edits == [
        ("edit", "targets RS children_reached 2010", "ok"),
        ("edit", "notes RS", "ok"),
    ]
    everything = json.dumps([list(map(str, r)) for r in records])
    assert "54321" not in everything and "54,321" not in everything
    assert "98765" not in everything and "Secret" not in everything
    # and the audit-log page shows the record
    status, props = call(
        manager, "audit-records-table.children", {"audit-action-picker": "edit"}
    )
    assert status == 200 and "targets RS children_reached 2010" in json.dumps(props)


# -- notes ----------------------------------------------------------------------------


def country_notes(client, country):
    status, props = call(
        client, "country-notes.children", {"country-country-picker": country}
    )
    assert status == 200
    return json.dumps(props, ensure_ascii=False)


def test_a_note_round_trips_to_the_country_page(dash_app, login_as):
    manager, donor = login_as("regional_manager"), login_as("donor")
    assert "Two sites closed" not in country_notes(donor, "BA")  # cached now
    text = "Two sites closed for the winter.\nOutreach went on."
    status, props = save_note(manager, "BA", text)
    assert status == 200 and "Note saved." in message(
        props, "targets-note-message.children"
    )
    assert props[f"{NOTE}.value"] == text
    assert "test-manager" in props["targets-note-who.children"]
    save_note(manager, "BA", "A quarter's note.", period="2010Q3")
    shown = country_notes(donor, "BA")  # a donor who sees BA reads it at once
    assert "Two sites closed for the winter.\\nOutreach went on." in shown
    assert "A quarter's note." in shown and "2010 Q3" in shown
    assert shown.index("Whole programme") < shown.index("2010 Q3")
    # the page reads it back; an empty note removes it
    status, props = call(manager, f"{NOTE}.value", {COUNTRY: "BA", PERIOD: "2010Q3"})
    assert props[f"{NOTE}.value"] == "A quarter's note."
    save_note(manager, "BA", "   ", period="2010Q3")
    assert "A quarter's note." not in country_notes(donor, "BA")


def test_a_note_saved_meanwhile_by_someone_else_is_not_overwritten(dash_app, login_as):
    manager, lead = login_as("regional_manager"), login_as("country_lead")
    status, opened = call(lead, f"{NOTE}.value", {COUNTRY: "RS", PERIOD: "ALL"})
    assert opened["targets-note-loaded-store.data"] == ""  # no note yet
    save_note(manager, "RS", "The manager's note.")
    status, props = save_note(
        lead, "RS", "The lead's note.", loaded=opened["targets-note-loaded-store.data"]
    )
    said = message(props, "targets-note-message.children")
    assert "test-manager changed this note" in said and "The manager's note." in said
    assert f"{NOTE}.value" not in props  # the lead's text stays in the box
    assert "The manager's note." in country_notes(manager, "RS")
    # saving again, now knowing, replaces it
    status, props = save_note(
        lead, "RS", "The lead's note.", loaded=props["targets-note-loaded-store.data"]
    )
    assert "Note saved." in message(props, "targets-note-message.children")
    shown = country_notes(manager, "RS")
    assert "The lead's note." in shown and "The manager's note." not in shown


def test_a_note_of_a_country_is_shown_only_to_who_can_see_it(dash_app, login_as):
    save_note(login_as("country_lead"), "RS", "Serbian note.")
    assert "Serbian note." in country_notes(login_as("regional_manager"), "RS")
    assert "Serbian note." not in country_notes(login_as("donor"), "RS")


def test_a_note_too_long_is_refused_and_nothing_saved(dash_app, login_as):
    manager = login_as("regional_manager")
    status, props = save_note(manager, "RS", "x" * (tables.NOTE_LENGTH + 1))
    assert status == 200
    assert "at most 2,000 characters" in message(props, "targets-note-message.children")
    assert f"{NOTE}.value" not in props
    status, props = save_note(manager, "RS", "x" * tables.NOTE_LENGTH + "\x00")
    assert "Note saved." in message(props, "targets-note-message.children")
    assert props[f"{NOTE}.value"] == "x" * tables.NOTE_LENGTH  # the NUL is dropped


# -- in a browser, under the Content-Security-Policy --------------------------------


@pytest.mark.browser
def test_a_manager_changes_a_target_in_the_browser(live_url, dash_app):
    with chromium_page() as page:
        browser_login(page, live_url, "regional_manager")
        page.goto(live_url + "/targets?country=RS", wait_until="domcontentloaded")
        cell = f"#{GRID} .ag-row[row-index='4'] [col-id='y2010']"
        page.wait_for_selector(cell, timeout=30_000)
        assert "Children reached" in page.inner_text(f"#{GRID} .ag-row[row-index='4']")
        page.click(cell)
        page.keyboard.press("Control+A")
        page.keyboard.type(str(NEW_TARGET))
        page.click("#targets-save-button")
        wait_for_js(
            page,
            "document.getElementById('targets-save-message').innerText"
            ".includes('Saved 1 target of Serbia.')",
        )
        page.fill(f"#{NOTE}", "Written in the browser.")
        page.click("#targets-note-save-button")
        wait_for_js(
            page,
            "document.getElementById('targets-note-message').innerText"
            ".includes('Note saved.')",
        )
        failures = page.evaluate(CONTRAST_FAILURES)
        assert_offline_and_clean(page)
    assert failures == [], failures
    cell = stored_targets(dash_app, "RS")[("children_reached", "2010")]
    assert cell.value == NEW_TARGET
