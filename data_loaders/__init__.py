"""Everything that touches a country database: demo data, queries, protection,
warehouse.

The dashboard never imports a country connection from here; it reads the warehouse.
"""

__version__ = "0.1.0"
