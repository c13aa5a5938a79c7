"""Notifications: order events into the durable outbox, and out over MQTT and webhooks."""
