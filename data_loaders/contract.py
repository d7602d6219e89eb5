"""The minimum dataset of CONTRACT §2 and the cell dimensions of §4, as constants.

These are fixed by the contract, not by a programme: every country database exposes
these tables and columns (possibly renamed in the sources file).
"""

TABLES = {
    "sites": (
        "site_id",
        "name",
        "kind",
        "municipality",
        "latitude",
        "longitude",
        "public_location",
        "opened_on",
        "closed_on",
    ),
    "children": ("child_id", "sex", "birth_year"),
    "contacts": ("contact_id", "child_id", "site_id", "contact_date", "activity"),
    "referrals": (
        "referral_id",
        "child_id",
        "site_id",
        "referral_date",
        "direction",
        "agency",
        "outcome",
    ),
    "activities": (
        "activity_id",
        "site_id",
        "activity_date",
        "objective",
        "indicator",
        "quantity",
    ),
}

SITE_KINDS = (
    "drop_in_centre",
    "street_children_centre",
    "school_programme",
    "mobile_team",
    "mobile_school",
    "outreach",
    "shelter",
    "other",
)
ACTIVITIES = (
    "drop_in",
    "outreach",
    "education",
    "recreation",
    "counselling",
    "emergency",
    "school_support",
    "other",
)
AGENCIES = (
    "police",
    "social_welfare",
    "school",
    "health",
    "civil_registration",
    "legal_aid",
    "shelter",
    "ngo",
    "family",
    "self",
    "helpline",
    "other",
)
OUTCOMES = ("pending", "completed", "declined")
DIRECTIONS = ("in", "out")

ALL = "ALL"  # the reserved "every value" of a dimension; also a forbidden site id
SEXES = ("F", "M", "U")
AGE_BANDS = ("0-9", "10-13", "14-17", "18+", "U")
UNKNOWN_OUTCOME = "unknown"

# Columns an indicator's filters may name, per source table (never free SQL).
FILTER_COLUMNS = {
    "contacts": {"activity": ACTIVITIES},
    "referrals": {
        "direction": DIRECTIONS,
        "agency": AGENCIES,
        "outcome": OUTCOMES + (UNKNOWN_OUTCOME,),
    },
    "activities": {},
}

# The breakdowns of §4: which of site, sex, age_band, service are not ALL in a cell.
BREAKDOWNS = ((), ("site",), ("sex",), ("age_band",), ("service",), ("sex", "age_band"))
CELL_KEY = ("country", "site", "period", "indicator", "sex", "age_band", "service")


def age_band(age: int | None) -> str:
    """The §4 age band of an age in whole years (None or negative: unknown)."""
    if age is None or age < 0:
        return "U"
    if age <= 9:
        return "0-9"
    if age <= 13:
        return "10-13"
    if age <= 17:
        return "14-17"
    return "18+"
