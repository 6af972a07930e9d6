"""Notifications: emails every party the right message for every step, with stable Message-IDs."""
