"""A view's URL: parse with a note of what was ignored, encode, keep in step."""

from __future__ import annotations

import pytest
from dash import no_update

from dashboard import urlstate
from dashboard.urlstate import Field

FIELDS = [
    Field("indicator", ("children_reached", "attendance_visits"), "children_reached"),
    Field("period", ("2009", "2010", "ALL"), "ALL"),
    Field("countries", ("BA", "RS", "ME"), ("BA", "RS", "ME"), multiple=True),
]


def test_a_valid_query_gives_its_state_and_nothing_ignored():
    state, ignored = urlstate.parse(
        {"indicator": "attendance_visits", "period": "2010", "countries": "ME,BA"},
        FIELDS,
    )
    assert state == {
        "indicator": "attendance_visits",
        "period": "2010",
        "countries": ("BA", "ME"),  # in the declared order
    }
    assert ignored == []


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ({"period": "2099"}, "period “2099”"),
        ({"period": ["2009", "2010"]}, "period “2009,2010”"),
        ({"colour": "red"}, "“colour” (not a setting of this page)"),
        ({"countries": "BA,XX"}, "countries “XX”"),
        ({"indicator": "x" * 100}, "…"),
    ],
)
def test_unknown_or_malformed_values_fall_back_and_are_named(query, phrase):
    state, ignored = urlstate.parse(query, FIELDS)
    assert any(phrase in item for item in ignored), ignored
    assert state["period"] in ("ALL", "2009", "2010")
    assert state["indicator"] == "children_reached"


def test_an_invisible_country_is_ignored_like_an_unknown_one():
    state, ignored = urlstate.parse({"countries": "BG,RS"}, FIELDS)
    assert state["countries"] == ("RS",) and ignored == ["countries “BG”"]


def test_encode_then_parse_round_trips():
    state = {"indicator": "attendance_visits", "period": "2009", "countries": ("RS",)}
    search = urlstate.encode(state, FIELDS)
    assert search == "?indicator=attendance_visits&period=2009&countries=RS"
    assert urlstate.parse_search(search, FIELDS) == (state, [])
    empty = urlstate.encode(state | {"countries": ()}, FIELDS)
    assert urlstate.parse_search(empty, FIELDS)[0]["countries"] == ()


def test_clean_makes_a_hand_made_value_valid():
    assert urlstate.clean(
        {"indicator": {"x": 1}, "period": "2010", "countries": "BA"}, FIELDS
    ) == {"indicator": "children_reached", "period": "2010", "countries": ()}


def test_a_control_change_pushes_the_canonical_query_once():
    values = ["attendance_visits", "2010", ["RS", "BA"]]
    search, note, *updates = urlstate.sync(FIELDS, "", values, from_url=False)
    assert search == "?indicator=attendance_visits&period=2010&countries=BA,RS"
    assert note is None and updates == [no_update] * 3
    again = urlstate.sync(FIELDS, search, values, from_url=False)
    assert again[0] is no_update  # the same view is not pushed twice


def test_back_and_forward_set_only_the_controls_that_differ():
    values = ["children_reached", "2010", ["BA", "RS", "ME"]]
    search, note, *updates = urlstate.sync(
        FIELDS, "?period=2009&countries=RS", values, from_url=True
    )
    assert search is no_update and note is None
    assert updates == [no_update, "2009", ["RS"]]
    _search, note, *_ = urlstate.sync(FIELDS, "?period=x", values, from_url=True)
    assert "period “x”" in str(note)


def test_a_field_in_the_path_is_read_from_and_written_to_the_path():
    fields = [Field("country", ("RS", "ME"), "RS"), *FIELDS[:2]]
    path = ("/country/", "country")
    pathname, search, _note, *updates = urlstate.sync(
        fields,
        "?period=2009&country=XX",
        ["RS", "children_reached", "ALL"],
        from_url=True,
        path=path,
        pathname="/country/ME",
    )
    assert updates == ["ME", no_update, "2009"]  # the path wins over ?country=
    pathname, search, *_ = urlstate.sync(
        fields,
        "?indicator=children_reached&period=ALL",
        ["ME", "children_reached", "ALL"],
        from_url=False,
        path=path,
        pathname="/country/RS",
    )
    assert pathname == "/country/ME" and search is no_update
    assert urlstate.path_value("/country/", "/country/") is None
    assert urlstate.path_value("/country/ME", "/country/") == "ME"
