"""Thin HTTP layer: parse, authorize (declaratively), call a service, shape the response."""
