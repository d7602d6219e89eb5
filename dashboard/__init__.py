"""The web app: settings, data access to the warehouse, figures, components, pages."""
