"""Notifications that leave the app: the outbox, its deliverer and the channels it sends on."""
