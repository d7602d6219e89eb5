"""Disclosure control of CONTRACT §5: what may be published of a sensitive cell.

True values exist only in memory between the source query and `protect`; what comes out
holds the published value (rounded, or empty when suppressed) and never the true one.
"""

from __future__ import annotations

import pandas as pd

from data_loaders.programme import Programme


def primary(cells: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Suppress 1..k-1, round every other sensitive value to the nearest multiple of b.

    A true 0 stays 0: zeros are never suppressed, so a suppressed cell is known ≥ 1.
    Non-sensitive indicators are published exactly.
    """
    k, b = programme.threshold, programme.rounding_base
    sensitive = cells["indicator"].isin([i.code for i in programme.sensitive()])
    true = cells["value"]
    hidden = sensitive & (true >= 1) & (true < k)
    # Nearest multiple of b; with b odd no value sits exactly half-way.
    rounded = ((true + b // 2) // b) * b
    out = cells.rename(columns={"value": "true_value"})
    out["value"] = true.where(~sensitive, rounded).astype("Int64").mask(hidden)
    out["status"] = "published"
    out.loc[hidden, "status"] = "suppressed"
    return out


def published(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells without their true values: the only form that may be stored."""
    return cells.drop(columns=["true_value"])


def protect(cells: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Primary suppression and rounding, with true values still attached.

    Secondary suppression (CONTRACT §5) is not applied yet: until it is, a hidden cell
    can sometimes be narrowed down by differencing, and `audit` says so.
    """
    return primary(cells, programme)
