"""Certificates: issues each statutory mediation certificate exactly once, on time, as a PDF."""
