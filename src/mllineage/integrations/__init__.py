"""Integrations: read a tool teams already run and hand what it knows to the intake."""
